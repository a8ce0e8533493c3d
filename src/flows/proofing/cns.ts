import type * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { Account } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { owned } from "../../pki/algorithms.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { OID } from "../../pki/extensions.ts";
import { recordAuditBy } from "../../audit/service.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { openCaseOf, type ProofingCase } from "./cases.ts";
import { approveCase } from "./decisions.ts";
import { addEvidence } from "./evidence.ts";
import { checkCertificate, fiscalCodeFromSerialNumber, ProofingRefusal } from "./signature.ts";

const TICKET_MS = 10 * 60_000;

/**
 * Identification by CNS (seed 000, "Carta Nazionale dei Servizi"): the applicant's browser opens
 * the mutual-TLS endpoint (`--mtls-port`), which asks for the card's certificate. The browser
 * crosses to another origin there, so it carries a ticket: the account and an expiry, with the
 * master key's MAC, good for ten minutes.
 */
export function cnsTicket(deps: IdentityDeps, tenant: Tenant, account: Account): string {
  const body = `${tenant.id}.${account.id}.${deps.clock.now() + TICKET_MS}`;
  return `${body}.${deps.secrets.mac(`cns-ticket:${body}`)}`;
}

/** The account a ticket names, if it is genuine and unexpired. */
export function redeemCnsTicket(deps: IdentityDeps, tenant: Tenant, ticket: string): string {
  const [tenantId, accountId, expires, mac] = ticket.split(".");
  const body = `${tenantId}.${accountId}.${expires}`;
  if (!mac || tenantId !== tenant.id || !deps.secrets.macEquals(`cns-ticket:${body}`, mac) || Number(expires) < deps.clock.now()) {
    throw new TesseraError("proofing.ticket_invalid", "the link has expired: start again from your request", { status: 403 });
  }
  return accountId!;
}

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
 * A certificate a TLS client may authenticate with (RFC 5280 §4.2.1.3, §4.2.1.12): its key may make
 * digital signatures, and its extended key usage, if any, includes TLS client authentication. A
 * qualified signing certificate (non-repudiation only) is not a card's authentication certificate.
 */
function forClientAuthentication(certificate: pkijs.Certificate): boolean {
  const extensions = certificate.extensions ?? [];
  const keyUsage = extensions.find((e) => e.extnID === OID.keyUsage)?.parsedValue as asn1js.BitString | undefined;
  if (keyUsage && !((keyUsage.valueBlock.valueHexView[0] ?? 0) & 0x80)) return false;
  const eku = extensions.find((e) => e.extnID === OID.extKeyUsage)?.parsedValue as pkijs.ExtKeyUsage | undefined;
  return !eku || eku.keyPurposes.includes(OID.clientAuth);
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
      return approveCase(tx, tenant, proofing, { verified }, { ...by, accountId: null }, links);
    });
  } catch (error) {
    if (error instanceof ProofingRefusal) {
      await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.attempt_refused", subject: account.id, data: { case: proofing.id, method: "cns", reason: error.reason, detail: error.message } });
    }
    throw error;
  }
}
