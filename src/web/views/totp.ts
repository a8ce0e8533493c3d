import type { FieldSpec } from "../../flows/flow.ts";
import type { Translate } from "../../shared/i18n/translate.ts";
import { html, type SafeHtml } from "./html.ts";

/** The QR code and key of an authenticator app being added, from its code field's challenge ("" if none). */
export function totpQr(t: Translate, fields: FieldSpec[]): SafeHtml | "" {
  const qr = fields.find((f) => f.challenge && "qrSvg" in f.challenge)?.challenge as { qrSvg: string; secret: string } | undefined;
  if (!qr?.qrSvg) return "";
  return html`<figure class="qr"><img alt="${t("account.totp.qr")}" src="data:image/svg+xml;base64,${Buffer.from(qr.qrSvg).toString("base64")}"><figcaption>${t("account.totp.secret")} <code>${qr.secret}</code></figcaption></figure>`;
}

/** The fields without the key repeated as the code field's hint, where the QR code shows it. */
export const withoutKeyHint = (fields: FieldSpec[]): FieldSpec[] => fields.map((f) => (f.name === "code" && f.challenge && "qrSvg" in f.challenge ? { ...f, hint: undefined } : f));
