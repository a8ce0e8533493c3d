import type { Hierarchy } from "../../pki/authorities.ts";
import { rdnText } from "../../pki/names.ts";
import type { PkiUrls } from "../../pki/urls.ts";
import { layout, type PageContext } from "./layout.ts";
import { html, type SafeHtml } from "./html.ts";

const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The PKI disclosure statement (ETSI EN 319 411-1 Annex A), in English as the certificates'
 * QcPDS says: who issues, what, how to check a certificate, where the status services are.
 */
export function pdsPage(ctx: PageContext, hierarchy: Hierarchy, urls: PkiUrls & { chain: string; root: string; tsa: string }, policy: { tsaPolicy: string; certificateDays: number }): SafeHtml {
  const { root, issuing, ocsp, tsa } = hierarchy;
  const name = (a: typeof root) => rdnText(a.certificate.subject);
  return layout(ctx, {
    title: "PKI disclosure statement",
    body: html`<section class="panel"><h1>PKI disclosure statement</h1>
<p>${ctx.tenant?.displayName ?? ""} issues certificates from the hierarchy below. Qualified certificates for electronic signatures (policy QCP-n-qscd, 0.4.0.194112.1.2, ETSI EN 319 411-2) are issued to natural persons whose identity was verified, for at most ${String(policy.certificateDays)} days; their private keys are held for them by the service and used only with their authorisation (password and one-time code).</p>
<h2>Authorities</h2>
<dl>
<dt>Root</dt><dd>${name(root)} (serial ${root.serial}, valid ${date(root.notBefore)} to ${date(root.notAfter)}) <a href="${urls.root}">PEM</a> · <a href="${urls.rootCertificate}">DER</a></dd>
<dt>Issuing CA</dt><dd>${name(issuing)} (serial ${issuing.serial}, to ${date(issuing.notAfter)}) <a href="${urls.issuingCertificate}">DER</a> · <a href="${urls.chain}">chain</a></dd>
<dt>OCSP responder</dt><dd>${name(ocsp)}, at <code>${urls.ocsp}</code> (RFC 6960, GET and POST)</dd>
<dt>Time-stamping</dt><dd>${name(tsa)}, at <code>${urls.tsa}</code> (RFC 3161, policy ${policy.tsaPolicy})</dd>
</dl>
<h2>Checking a certificate</h2>
<p>Revocation status: the CRL at <code>${urls.crl}</code> (the root's at <code>${urls.rootCrl}</code>), updated on every revocation, or the OCSP responder. A revocation takes effect at once. Holders revoke their certificates from their self-service panel.</p>
</section>`,
  });
}
