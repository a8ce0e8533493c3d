import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { CrlRow } from "../store/repos/pki.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Authority } from "./authorities.ts";
import { x509Time } from "./certificate.ts";
import type { PkiDeps } from "./deps.ts";
import { authorityKeyIdentifier, crlNumber, crlReason } from "./extensions.ts";
import { signed } from "./signer.ts";

const HOUR = 3_600_000;
/** CRLs kept per issuer, newest first: older ones only matter to someone investigating. */
const CRLS_KEPT = 20;

/**
 * Signs and stores a new CRL of `issuer` (RFC 5280 §5): every certificate it revoked, with the
 * reason (omitted when unspecified, §5.3.1), the next number of the issuer's one sequence
 * (`identifier_counters`, so that nodes never reuse or reorder numbers), the authority key
 * identifier. Called inside the revocation's transaction, so that the CRL and the revocation land
 * together; the issuer's lock orders concurrent ones.
 */
export async function publishCrl(deps: PkiDeps, tenant: Tenant, issuer: Authority): Promise<CrlRow> {
  return deps.repos.atomically(async (repos) => {
    await repos.lock(`pki-crl:${tenant.id}:${issuer.id}`);
    const now = deps.clock.now();
    const number = await repos.counters.next(tenant.id, `crl:${issuer.id}`, 1);
    const revoked = await repos.pki.revoked(tenant.id, issuer.id);
    const crl = new pkijs.CertificateRevocationList({
      version: 1,
      issuer: issuer.certificate.subject,
      thisUpdate: x509Time(now),
      nextUpdate: x509Time(now + tenant.policy.pki.crl.validityHours * HOUR),
      ...(revoked.length > 0
        ? {
            revokedCertificates: revoked.map(
              (r) =>
                new pkijs.RevokedCertificate({
                  userCertificate: new asn1js.Integer({ valueHex: Buffer.from(r.serial, "hex") }),
                  revocationDate: x509Time(r.revoked_at!),
                  ...(r.revocation_reason ? { crlEntryExtensions: new pkijs.Extensions({ extensions: [crlReason(r.revocation_reason)] }) } : {}),
                }),
            ),
          }
        : {}),
      crlExtensions: new pkijs.Extensions({ extensions: [authorityKeyIdentifier(issuer.keyId), crlNumber(number)] }),
    });
    crl.signature = issuer.signer.algorithm();
    // The TBSCertList as pkijs builds it (its encodeTBS is not public: the first element of the whole).
    const der = await signed((crl.toSchema(true) as asn1js.Sequence).valueBlock.value[0]!, issuer.signer);
    const row: CrlRow = {
      tenant_id: tenant.id,
      issuer_id: issuer.id,
      number,
      this_update: Math.floor(now / 1000) * 1000,
      next_update: crl.nextUpdate!.value.getTime(),
      der: der.toString("base64"),
    };
    await repos.pki.insertCrl(row);
    await repos.pki.pruneCrls(tenant.id, issuer.id, number - CRLS_KEPT + 1);
    return row;
  });
}

/** The issuer's newest CRL, a new one signed first when there is none or it is due (policy `crl.reissueHours`). */
export async function currentCrl(deps: PkiDeps, tenant: Tenant, issuer: Authority): Promise<CrlRow> {
  const latest = await deps.repos.pki.latestCrl(tenant.id, issuer.id);
  if (latest && !due(deps, tenant, latest)) return latest;
  return deps.repos.atomically(async (repos) => {
    await repos.lock(`pki-crl:${tenant.id}:${issuer.id}`);
    // Another node may have signed one meanwhile.
    const again = await repos.pki.latestCrl(tenant.id, issuer.id);
    if (again && !due(deps, tenant, again)) return again;
    return publishCrl({ ...deps, repos }, tenant, issuer);
  });
}

const due = (deps: PkiDeps, tenant: Tenant, crl: CrlRow) => deps.clock.now() - crl.this_update >= tenant.policy.pki.crl.reissueHours * HOUR;
