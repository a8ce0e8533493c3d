import { recordAuditBy } from "../../audit/service.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { OID } from "../../pki/extensions.ts";
import { verifyPdfSignature, verifySignedData, type SignatureVerdict } from "../../pki/signatures.ts";
import { subjectSerialNumber } from "../../pki/validation.ts";
import { type CheckedCertificate, checkTrustedCertificate, trustAnchorsOf } from "../../pki/trust.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import * as asn1js from "asn1js";
import type * as pkijs from "pkijs";
import { openCaseOf, type ProofingCase, proofingPolicy, type RejectionReason } from "./cases.ts";
import { contractPdf } from "./contract.ts";
import { approveCase } from "./decisions.ts";
import { addEvidence, readEvidence } from "./evidence.ts";

/**
 * Identification by qualified signature (seed 000, "Firma Digitale"): the applicant downloads the
 * contract, signs it with their own qualified certificate and uploads what their signing software
 * made: the PDF signed (PAdES) or a `.p7m` holding it (CAdES). Tessera checks, in order: the
 * signature, over exactly the contract it issued; the certificate is qualified and chains to the
 * tenant's signature trust list; it is valid now and not revoked (OCSP or CRL, which must
 * answer); its serialNumber is `TINIT-` and the codice fiscale of the request. Then the identity
 * is active. A failed check changes nothing but the audit log: the applicant is told why at once
 * and may try again.
 */
export class ProofingRefusal extends TesseraError {
  override name = "ProofingRefusal";
  /** The code is the reason's message key: pages and the API tell it in the user's language. */
  constructor(readonly reason: RejectionReason, detail: string) {
    super(`proofing.reason.${reason}`, detail, { status: 422, params: { reason } });
  }
}

/** The contract to sign, made on the first download and the same file afterwards. */
export async function contractFor(deps: IdentityDeps, tenant: Tenant, account: Account, by: Actor): Promise<Buffer> {
  const proofing = await openCaseOf(deps, tenant, account, "signature");
  const existing = (await deps.repos.proofing.evidenceOf(tenant.id, proofing.id)).find((e) => e.kind === "contract");
  if (existing) return (await readEvidence(deps, tenant, proofing.id, existing.id, by)).content;
  const pdf = await contractPdf(tenant, account, proofing, deps.clock.now());
  await addEvidence(deps, tenant, proofing.id, { kind: "contract", mediaType: "application/pdf", content: pdf }, by);
  return Buffer.from(pdf);
}

/** The certificates of one of the proofing policy's trust lists. */
export const trustAnchors = (deps: PkiDeps, tenant: Tenant, list: "signature" | "cns" | "csca") => trustAnchorsOf(deps, tenant, proofingPolicy(tenant).trust[list]);

const REFUSALS = { untrusted: "certificate_untrusted", expired: "certificate_expired", revoked: "certificate_revoked", status_unknown: "revocation_unknown" } as const;

/** The certificate checks shared by the signature and CNS methods: chain, validity, revocation, codice fiscale. */
export async function checkCertificate(
  deps: PkiDeps,
  tenant: Tenant,
  account: Account,
  signer: pkijs.Certificate,
  intermediates: pkijs.Certificate[],
  list: "signature" | "cns",
  codiceFiscaleOf: (certificate: pkijs.Certificate) => string | undefined,
): Promise<CheckedCertificate> {
  const verdict = await checkTrustedCertificate(deps, tenant, proofingPolicy(tenant).trust[list], signer, intermediates);
  if (!verdict.ok) throw new ProofingRefusal(REFUSALS[verdict.problem], verdict.detail);
  const codiceFiscale = codiceFiscaleOf(signer);
  if (!codiceFiscale || codiceFiscale !== account.fiscalCode) throw new ProofingRefusal("fiscal_code_mismatch", `the certificate is for ${codiceFiscale ?? "no codice fiscale"}`);
  return verdict.checked;
}

/** EN 319 412-1: the serialNumber attribute `TINIT-<codice fiscale>`. */
export const fiscalCodeFromSerialNumber = (certificate: pkijs.Certificate) => /^TINIT-([A-Z0-9]{16})$/.exec(subjectSerialNumber(certificate) ?? "")?.[1];

/** An EU qualified certificate states QcCompliance among its QCStatements (ETSI EN 319 412-5 §4.2.1). */
function isQualified(certificate: pkijs.Certificate): boolean {
  const extension = (certificate.extensions ?? []).find((e) => e.extnID === OID.qcStatements);
  if (!extension) return false;
  const statements = asn1js.fromBER(extension.extnValue.valueBlock.valueHexView).result;
  if (!(statements instanceof asn1js.Sequence)) return false;
  return statements.valueBlock.value.some((statement) => {
    const id = statement instanceof asn1js.Sequence ? statement.valueBlock.value[0] : undefined;
    return id instanceof asn1js.ObjectIdentifier && id.valueBlock.toString() === OID.qcCompliance;
  });
}

/** The upload: a signed PDF (PAdES) or a CMS holding the contract (CAdES `.p7m`). */
export async function submitSignedContract(deps: PkiDeps, tenant: Tenant, account: Account, upload: Uint8Array, by: Actor, links: { accountUrl: string }): Promise<ProofingCase["state"]> {
  const proofing = await openCaseOf(deps, tenant, account, "signature");
  const max = proofingPolicy(tenant).maxUploadBytes;
  if (upload.length === 0 || upload.length > max) throw new TesseraError("proofing.upload_too_large", `the file must have between 1 and ${max} bytes`, { status: 413, params: { field: "file", max } });
  const record = (reason: RejectionReason, detail: string) =>
    recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.attempt_refused", subject: account.id, data: { case: proofing.id, method: "signature", reason, detail } });
  try {
    const contractInfo = (await deps.repos.proofing.evidenceOf(tenant.id, proofing.id)).find((e) => e.kind === "contract");
    if (!contractInfo) throw new ProofingRefusal("signature_invalid", "the contract was never downloaded");
    const contract = (await readEvidence(deps, tenant, proofing.id, contractInfo.id, by)).content;
    const isPdf = Buffer.from(upload.subarray(0, 5)).toString("latin1") === "%PDF-";
    let verdict: SignatureVerdict;
    let format: "PAdES" | "CAdES";
    if (isPdf) {
      format = "PAdES";
      verdict = await verifyPdfSignature(upload);
      // What was signed is the contract with the signature's incremental update after it.
      if (verdict.ok && !Buffer.from(upload.subarray(0, contract.length)).equals(contract)) verdict = { ok: false, detail: "the signed PDF is not the contract issued" };
    } else {
      format = "CAdES";
      verdict = await verifySignedData(upload);
      if (verdict.ok && !verdict.content.equals(contract)) verdict = { ok: false, detail: "the signed content is not the contract issued" };
    }
    if (!verdict.ok) throw new ProofingRefusal("signature_invalid", verdict.detail);
    if (!isQualified(verdict.signer)) throw new ProofingRefusal("certificate_untrusted", "the certificate is not qualified (no QcCompliance statement)");
    const checked = await checkCertificate(deps, tenant, account, verdict.signer, verdict.certificates, "signature", fiscalCodeFromSerialNumber);
    return await deps.repos.atomically(async (repos) => {
      const tx = { ...deps, repos };
      await addEvidence(tx, tenant, proofing.id, { kind: "signed_contract", mediaType: isPdf ? "application/pdf" : "application/pkcs7-mime", content: upload }, by);
      return approveCase(tx, tenant, proofing, { verified: { format, ...checked, signingTime: verdict.signingTime } }, { ...by, accountId: null }, links);
    });
  } catch (error) {
    if (error instanceof ProofingRefusal) await record(error.reason, error.message);
    throw error;
  }
}
