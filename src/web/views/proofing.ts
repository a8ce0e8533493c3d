import type { Account } from "../../identity/accounts.ts";
import type { ProofingCase } from "../../flows/proofing/cases.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { html, type SafeHtml } from "./html.ts";
import type { PageContext } from "./layout.ts";

/** What the panel shows of an identity request awaiting proofing. */
export interface ApplicantView {
  proofing: ProofingCase | undefined;
  /** Free video slots, when the case is a video identification. */
  slots: number[];
  /** The mutual-TLS endpoint for CNS, when the server has one. */
  cnsUrl: string | undefined;
}

const methodKey = (method: string) => `enrol.method.${method}` as MessageKey;

/**
 * "Your identity request" at the top of the panel while the identity awaits proofing: what to do
 * next for the method chosen (where to go, the video booking, the contract to sign and upload,
 * the CNS card, the CIE app), a rejection's reason and next steps, and another method to choose.
 */
export function applicantSection(ctx: PageContext, tenant: Tenant, account: Account, view: ApplicantView): SafeHtml {
  const { t } = ctx;
  const base = `/t/${tenant.id}/account/proofing`;
  const enrolment = tenant.policy.enrolment!;
  const proofing = view.proofing;
  const when = (ms: number) => formatDate(ms, ctx.locale, tenant.policy.timeZone, "dateTime");
  const point = enrolment.points.find((p) => p.id === proofing?.point);

  const methodForm = html`<form method="post" action="${base}/method" class="stack">
<div class="field"><label for="field-method">${t("proofing.choose_method")}</label>
<select id="field-method" name="method">${enrolment.methods.map((m) => html`<option value="${m}"${proofing?.method === m ? html` selected` : ""}>${t(methodKey(m))}</option>`)}</select></div>
<div class="field"><label for="field-point">${t("enrol.field.point")}</label>
<select id="field-point" name="point"><option value="">—</option>${enrolment.points.map((p) => html`<option value="${p.id}"${proofing?.point === p.id ? html` selected` : ""}>${p.name}, ${p.address}</option>`)}</select></div>
<button type="submit" class="button">${t("proofing.change_method")}</button></form>`;

  let next: SafeHtml | string = "";
  if (proofing?.state === "pending") {
    switch (proofing.method) {
      case "in_person":
        next = html`<p>${t("proofing.next_step.in_person", { point: point?.name ?? "", address: point?.address ?? "", request: proofing.request })}</p>`;
        break;
      case "video":
        next = html`${proofing.bookedAt !== null ? html`<p>${t("proofing.video.booked", { date: when(proofing.bookedAt) })}</p>` : html`<p>${t("proofing.next_step.video")}</p>`}
${view.slots.length === 0 ? html`<p>${t("proofing.video.no_slots")}</p>` : html`<form method="post" action="${base}/video" class="inline-form"><label for="field-slot">${t("proofing.video.slot")}</label>
<select id="field-slot" name="slot">${view.slots.slice(0, 60).map((s) => html`<option value="${String(s)}">${when(s)}</option>`)}</select>
<button type="submit" class="button">${t(proofing.bookedAt !== null ? "proofing.video.rebook" : "proofing.video.book")}</button></form>`}`;
        break;
      case "signature":
        next = html`<ol><li><a class="button" href="${base}/contract.pdf" download="contratto-${proofing.request}.pdf">${t("proofing.signature.download")}</a></li>
<li>${t("proofing.signature.sign")}</li>
<li><form method="post" action="${base}/signed" enctype="multipart/form-data" class="inline-form"><label for="field-file">${t("proofing.signature.upload")}</label>
<input type="file" id="field-file" name="file" accept=".pdf,.p7m,application/pdf,application/pkcs7-mime" required>
<button type="submit" class="button primary">${t("proofing.signature.submit")}</button></form></li></ol>`;
        break;
      case "cns":
        next = view.cnsUrl ? html`<p>${t("proofing.next_step.cns")}</p><p><a class="button primary" href="${base}/cns">${t("proofing.cns.continue")}</a></p>` : html`<p>${t("proofing.cns.unavailable")}</p>`;
        break;
      case "cie":
        next = html`<p>${t("proofing.next_step.cie", { request: proofing.request })}</p>`;
        break;
    }
  }
  const status =
    !proofing || proofing.state === "withdrawn"
      ? html`<p>${t("proofing.status.none")}</p>`
      : proofing.state === "rejected"
        ? html`<div class="error-summary" role="alert"><p>${t("proofing.status.rejected", { method: t(methodKey(proofing.method)) })} ${t(`proofing.reason.${proofing.reason ?? "other"}` as MessageKey)}</p><p>${t(`proofing.next.${proofing.reason ?? "other"}` as MessageKey)}</p></div>`
        : proofing.state === "awaiting_confirmation"
          ? html`<p>${t("proofing.status.awaiting_confirmation")}</p>`
          : html`<p>${t("proofing.status.pending", { method: t(methodKey(proofing.method)), request: proofing.request })}</p>`;
  return html`<section class="panel" id="proofing" aria-labelledby="h-proofing"><h2 id="h-proofing">${t("proofing.title")}</h2>
${status}${next}
${proofing?.state === "awaiting_confirmation" ? "" : html`<details><summary>${t("proofing.other_method")}</summary>${methodForm}</details>`}
</section>`;
}
