import type { TotpEnrolment } from "../identity/totp.ts";
import type { Translate } from "../shared/i18n/translate.ts";
import type { FieldSpec } from "./flow.ts";

/** The code field of an app being added: the QR code and the key as its challenge, the key as text. */
export function totpCodeField(t: Translate, pending: TotpEnrolment | undefined): FieldSpec {
  return {
    name: "code",
    type: "code",
    required: true,
    label: t("account.totp.code"),
    hint: pending?.secret ?? "",
    challenge: { secret: pending?.secret ?? "", uri: pending?.uri ?? "", qrSvg: pending?.qrSvg ?? "" },
  };
}
