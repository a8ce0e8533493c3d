import * as pkijs from "pkijs";
import type { Account } from "../../identity/accounts.ts";
import type { Actor } from "../../identity/deps.ts";
import { owned } from "../../pki/algorithms.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { forClientAuthentication } from "../../pki/trust.ts";
import { recordAuditBy } from "../../audit/service.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { openCaseOf, type ProofingCase } from "./cases.ts";
import { approveCase } from "./decisions.ts";
import { addEvidence } from "./evidence.ts";
import { checkCertificate, fiscalCodeFromSerialNumber, ProofingRefusal } from "./signature.ts";

/**
 * A CNS card's codice fiscale: in its serialNumber (`TINIT-<CF>`, EN 319 412-1) or, as Italian
 * CNS certificates write it, first in the common name (`<CF>/<card number>.<hash>`).
 */
export function cnsFiscalCode(certificate: pkijs.Certificate): string | undefined {
  const fromSerial = fiscalCodeFromSerialNumber(certificate);
  if (fromSerial) return fromSerial;
  const cn = certificate.subject.typesAndValues.find((t) => t.type === "2.5.4.3");
  return /^([A-Z0-9]{16})\//.exec(String(cn?.value.valueBlock.value ?? ""))?.[1];
}

/**
 * The certificate the card presented in the TLS handshake (its chain as the browser sent it):
 * for TLS client authentication, chained to the tenant's CNS trust list, valid, not revoked, of
 * the request's codice fiscale. Then the identity is active.
 */
export async function proofByCns(deps: PkiDeps, tenant: Tenant, account: Account, chain: Uint8Array[], by: Actor, links: { accountUrl: string }): Promise<ProofingCase["state"]> {
  const proofing = await openCaseOf(deps, tenant, account, "cns");
  try {
    if (chain.length === 0) throw new ProofingRefusal("certificate_untrusted", "no certificate was presented");
    const [leaf, ...intermediates] = chain.map((der) => pkijs.Certificate.fromBER(owned(der)));
    if (!forClientAuthentication(leaf!)) throw new ProofingRefusal("certificate_untrusted", "the certificate is not for client authentication");
    const verified = await checkCertificate(deps, tenant, account, leaf!, intermediates, "cns", cnsFiscalCode);
    return await deps.repos.atomically(async (repos) => {
      const tx = { ...deps, repos };
      await addEvidence(tx, tenant, proofing.id, { kind: "client_certificate", mediaType: "application/pkix-cert", content: chain[0]! }, by);
      return approveCase(tx, tenant, proofing, { verified: { ...verified } }, { ...by, accountId: null }, links);
    });
  } catch (error) {
    if (error instanceof ProofingRefusal) {
      await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.attempt_refused", subject: account.id, data: { case: proofing.id, method: "cns", reason: error.reason, detail: error.message } });
    }
    throw error;
  }
}
