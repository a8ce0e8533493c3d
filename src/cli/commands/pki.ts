import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { findAccountByIdentifier } from "../../identity/accounts.ts";
import { chainPem, type Hierarchy, initPki, requireHierarchy } from "../../pki/authorities.ts";
import { pem } from "../../pki/certificate.ts";
import { csrPublicKey } from "../../pki/csr.ts";
import { rdnText } from "../../pki/names.ts";
import { issueCertificate, issuedOf } from "../../pki/issuance.ts";
import { END_ENTITY_PROFILES, type EndEntityProfile } from "../../pki/profiles.ts";
import { REVOCATION_REASONS, type RevocationReason, reasonName, revokeCertificate } from "../../pki/revocation.ts";
import { resolveBaseUrl } from "../../shared/config/settings.ts";
import { TesseraError, ValidationError } from "../../shared/errors.ts";
import type { CertificateRow } from "../../store/repos/pki.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { tenantOf, withServices } from "../with-store.ts";

const BY = { actor: "cli" };
const iso = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());
const usage = (field: string, message: string) => new ValidationError("pki.invalid", [{ field, code: "invalid", message }]);

const withTenant = (command: Command) => withSettingsOptions(command.requiredOption("--tenant <id>", "the tenant whose PKI it is").option("--json", "print JSON"));

function describeHierarchy(hierarchy: Hierarchy) {
  return (["root", "issuing", "ocsp", "tsa"] as const).map((role) => {
    const a = hierarchy[role];
    return {
      role,
      subject: rdnText(a.certificate.subject),
      serial: a.serial,
      algorithm: a.key.algorithm,
      keystore: a.key.keystore,
      notBefore: iso(a.notBefore),
      notAfter: iso(a.notAfter),
    };
  });
}

function printHierarchy(io: CliIo, hierarchy: Hierarchy, json: boolean | undefined) {
  const rows = describeHierarchy(hierarchy);
  if (json) {
    io.stdout.write(`${JSON.stringify({ authorities: rows, chain: chainPem(hierarchy), root: pem("CERTIFICATE", hierarchy.root.der) }, null, 2)}\n`);
    return;
  }
  for (const r of rows) io.stdout.write(`${r.role.padEnd(8)} ${r.subject}\n         serial ${r.serial}  ${r.algorithm} (${r.keystore})  ${r.notBefore} → ${r.notAfter}\n`);
  io.stdout.write(`\n${chainPem(hierarchy)}`);
}

const statusOf = (row: CertificateRow, now: number) => (row.revoked_at !== null ? `revoked (${reasonName(row.revocation_reason) ?? row.revocation_reason})` : row.not_after <= now ? "expired" : "valid");

/** A PKCS#10 request from a file: its public key, once its signature verifies (pki/csr.ts). */
async function readCsr(file: string, cwd: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = readFileSync(path.resolve(cwd, file));
  } catch (error) {
    throw usage("--csr", `${file}: ${(error as Error).message}`);
  }
  return csrPublicKey(raw).catch((error: unknown) => {
    throw error instanceof TesseraError ? usage("--csr", `${file}: ${error.message}`) : error;
  });
}

/**
 * `tessera pki init|show|issue|revoke|list`: a tenant's certification authorities for operators
 * (docs/pki.md). Issuance takes a PKCS#10 request; the subject is the operator's to state, as a
 * registration authority would after checking identity.
 */
export function pkiCommand(io: CliIo, _status: ExitStatus): Command {
  const init = withTenant(new Command("init").description("Set up the tenant's PKI: root, issuing CA, OCSP responder and TSA, with keys in the tenant's keystore")).action(
    async (_o: unknown, command: Command) => {
      const o = command.opts<{ tenant: string; json?: boolean }>();
      const settings = settingsFrom(command, io);
      const { hierarchy, created } = await withServices(settings, async (store, deps) => {
        const tenant = await tenantOf(store, o.tenant);
        return initPki(deps, tenant, `${resolveBaseUrl(settings, settings.port)}/t/${tenant.id}`, BY);
      });
      if (!created) io.stderr.write(`tessera: the PKI of ${o.tenant} was set up already; nothing changed\n`);
      printHierarchy(io, hierarchy, o.json);
    },
  );

  const show = withTenant(new Command("show").description("Print the tenant's authorities and the chain (PEM)")).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean }>();
    const hierarchy = await withServices(settingsFrom(command, io), async (store, deps) => requireHierarchy(deps, await tenantOf(store, o.tenant)));
    printHierarchy(io, hierarchy, o.json);
  });

  const issue = withTenant(
    new Command("issue")
      .description("Issue an end-entity certificate for the key of a PKCS#10 request; prints it (PEM)")
      .addOption(new Option("--profile <profile>", "what the certificate is for").choices([...END_ENTITY_PROFILES]).default("qualified-signing"))
      .requiredOption("--csr <file>", "the PKCS#10 request (PEM or DER); only its key is used")
      .requiredOption("--country <CC>", "countryName (ISO 3166)")
      .requiredOption("--common-name <name>", "commonName")
      .option("--given-name <name>", "givenName")
      .option("--surname <name>", "surname")
      .option("--serial-number <id>", "serialNumber with its semantics: IDCES-<DNI>, TINIT-<codice fiscale>, PASxx-…")
      .option("--organization <name>", "organizationName, for a professional of an organisation")
      .option("--organization-id <id>", "organizationIdentifier: VATES-<CIF>, …")
      .option("--days <n>", "validity in days (at most the tenant's policy)")
      .option("--account <identifier>", "the account it belongs to (its e-mail, DNI or codice persona)")
      .option("--out <file>", "write the certificate (PEM) there instead of printing it"),
  ).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{
      tenant: string; json?: boolean; profile: EndEntityProfile; csr: string; country: string; commonName: string; givenName?: string; surname?: string;
      serialNumber?: string; organization?: string; organizationId?: string; days?: string; account?: string; out?: string;
    }>();
    const validityDays = o.days === undefined ? undefined : Number(o.days);
    if (validityDays !== undefined && (!Number.isInteger(validityDays) || validityDays < 1)) throw usage("--days", "takes a whole number of days");
    const publicKey = await readCsr(o.csr, io.cwd);
    const settings = settingsFrom(command, io);
    const issued = await withServices(settings, async (store, deps) => {
      const tenant: Tenant = await tenantOf(store, o.tenant);
      const account = o.account ? await findAccountByIdentifier(deps, tenant, o.account) : undefined;
      if (o.account && !account) throw new TesseraError("account.not_found", `no account ${o.account} in tenant ${tenant.id}`, { status: 404 });
      return issueCertificate(
        deps,
        tenant,
        `${resolveBaseUrl(settings, settings.port)}/t/${tenant.id}`,
        {
          profile: o.profile,
          subject: {
            country: o.country,
            commonName: o.commonName,
            ...(o.givenName ? { givenName: o.givenName } : {}),
            ...(o.surname ? { surname: o.surname } : {}),
            ...(o.serialNumber ? { serialNumber: o.serialNumber } : {}),
            ...(o.organization ? { organizationName: o.organization } : {}),
            ...(o.organizationId ? { organizationIdentifier: o.organizationId } : {}),
          },
          publicKey,
          accountId: account?.id ?? null,
          ...(validityDays !== undefined ? { validityDays } : {}),
        },
        BY,
      );
    });
    if (o.out) writeFileSync(path.resolve(io.cwd, o.out), issued.pem);
    if (o.json) io.stdout.write(`${JSON.stringify({ serial: issued.serial, profile: issued.profile, subject: issued.subject, notBefore: iso(issued.notBefore), notAfter: iso(issued.notAfter), pem: issued.pem }, null, 2)}\n`);
    else if (!o.out) io.stdout.write(issued.pem);
    else io.stdout.write(`${issued.serial}\n`);
  });

  const revoke = withTenant(
    new Command("revoke")
      .description("Revoke a certificate at once (CRL and OCSP)")
      .requiredOption("--serial <hex>", "its serial number, in hex")
      .addOption(new Option("--reason <reason>", "CRLReason (RFC 5280)").choices(Object.keys(REVOCATION_REASONS)).default("unspecified")),
  ).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean; serial: string; reason: RevocationReason }>();
    const row = await withServices(settingsFrom(command, io), async (store, deps) => revokeCertificate(deps, await tenantOf(store, o.tenant), { serial: o.serial, reason: o.reason }, BY));
    if (o.json) io.stdout.write(`${JSON.stringify({ serial: row.serial, revokedAt: iso(row.revoked_at), reason: o.reason }, null, 2)}\n`);
    else io.stdout.write(`revoked ${row.serial} (${o.reason}) at ${iso(row.revoked_at)}\n`);
  });

  const list = withTenant(new Command("list").description("List the certificates the tenant's CAs issued, newest first")).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean }>();
    const rows = await withServices(settingsFrom(command, io), async (store, deps) => deps.repos.pki.certificates((await tenantOf(store, o.tenant)).id));
    const now = Date.now();
    if (o.json) {
      const out = rows.map((r) => ({ serial: r.serial, profile: r.profile, subject: r.subject, status: statusOf(r, now), notBefore: iso(r.not_before), notAfter: iso(r.not_after), revokedAt: iso(r.revoked_at), pem: issuedOf(r).pem }));
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    for (const r of rows) io.stdout.write(`${r.serial}  ${r.profile.padEnd(17)}  ${statusOf(r, now).padEnd(24)}  until ${iso(r.not_after)}  ${r.subject}\n`);
  });

  return new Command("pki").description("Manage a tenant's certification authorities").addCommand(init).addCommand(show).addCommand(issue).addCommand(revoke).addCommand(list);
}
