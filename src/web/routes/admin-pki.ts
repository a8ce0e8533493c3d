import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { findAccountByIdentifier } from "../../identity/accounts.ts";
import { csrPublicKey } from "../../pki/csr.ts";
import { issueCertificate, issuedOf } from "../../pki/issuance.ts";
import { END_ENTITY_PROFILES } from "../../pki/profiles.ts";
import { REVOCATION_REASONS, type RevocationReason, reasonName, revokeCertificate } from "../../pki/revocation.ts";
import type { Actor } from "../../identity/deps.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { CertificateRow } from "../../store/repos/pki.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { pkiDeps, tenantUrl, type WebServices } from "../services.ts";
import { parseBody } from "../validate.ts";

/** A certificate request as the admin API takes it: the CSR (PEM, or Base64 DER) and the subject the registration authority vouches for. */
const IssueBody = z
  .object({
    profile: z.enum(END_ENTITY_PROFILES).default("qualified-signing"),
    csr: z.string().min(1).max(20_000),
    subject: z
      .object({
        country: z.string(),
        common_name: z.string(),
        given_name: z.string().optional(),
        surname: z.string().optional(),
        serial_number: z.string().optional(),
        organization_name: z.string().optional(),
        organization_identifier: z.string().optional(),
      })
      .strict(),
    days: z.number().int().optional(),
    /** The account it belongs to, by its identifier (e-mail, DNI, codice persona). */
    account: z.string().optional(),
  })
  .strict();

const RevokeBody = z.object({ reason: z.enum(Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]]).default("unspecified") }).strict();

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const describe = (row: CertificateRow) => ({
  serial: row.serial,
  profile: row.profile,
  subject: row.subject,
  not_before: iso(row.not_before),
  not_after: iso(row.not_after),
  revoked_at: iso(row.revoked_at),
  revocation_reason: row.revoked_at === null ? null : (reasonName(row.revocation_reason) ?? row.revocation_reason),
  certificate: issuedOf(row).pem,
});

/**
 * The PKI in the admin API, for registration-authority systems: issue a certificate for a CSR,
 * list what was issued, revoke. The same services as `tessera pki`; the actor is `admin-api`.
 */
export function adminPkiRoutes(services: WebServices, tenantOf: (request: FastifyRequest<{ Params: { tenant: string } }>) => Promise<Tenant>, by: (request: FastifyRequest) => Actor) {
  const deps = pkiDeps(services);
  return async (app: FastifyInstance) => {
    app.get<{ Params: { tenant: string } }>("/tenants/:tenant/pki/certificates", async (request) => (await deps.repos.pki.certificates((await tenantOf(request)).id)).map(describe));

    app.post<{ Params: { tenant: string } }>("/tenants/:tenant/pki/certificates", async (request, reply) => {
      const tenant = await tenantOf(request);
      const body = parseBody(IssueBody, request.body);
      const account = body.account === undefined ? undefined : await findAccountByIdentifier(deps, tenant, body.account);
      if (body.account !== undefined && !account) throw new TesseraError("account.not_found", "no such account", { status: 404 });
      const s = body.subject;
      const issued = await issueCertificate(
        deps,
        tenant,
        tenantUrl(services, tenant),
        {
          profile: body.profile,
          subject: {
            country: s.country,
            commonName: s.common_name,
            ...(s.given_name !== undefined ? { givenName: s.given_name } : {}),
            ...(s.surname !== undefined ? { surname: s.surname } : {}),
            ...(s.serial_number !== undefined ? { serialNumber: s.serial_number } : {}),
            ...(s.organization_name !== undefined ? { organizationName: s.organization_name } : {}),
            ...(s.organization_identifier !== undefined ? { organizationIdentifier: s.organization_identifier } : {}),
          },
          publicKey: await csrPublicKey(body.csr),
          accountId: account?.id ?? null,
          ...(body.days !== undefined ? { validityDays: body.days } : {}),
        },
        by(request),
      );
      return reply.code(201).send({ serial: issued.serial, profile: issued.profile, subject: issued.subject, not_before: iso(issued.notBefore), not_after: iso(issued.notAfter), revoked_at: null, revocation_reason: null, certificate: issued.pem });
    });

    app.post<{ Params: { tenant: string; serial: string } }>("/tenants/:tenant/pki/certificates/:serial/revocation", async (request) => {
      const tenant = await tenantOf(request);
      const { reason } = parseBody(RevokeBody, request.body);
      return describe(await revokeCertificate(deps, tenant, { serial: request.params.serial, reason }, by(request)));
    });
  };
}
