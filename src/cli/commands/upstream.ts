import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { listUpstreams, putUpstream, removeUpstream, type Upstream } from "../../federation/broker/upstreams.ts";
import { UPSTREAM_SCHEMES, type UpstreamScheme } from "../../identity/upstream-identity.ts";
import { ValidationError } from "../../shared/errors.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { tenantOf, withServices } from "../with-store.ts";
import { readMetadata } from "./sp.ts";

const BY = { actor: "cli" };
/** Where an OpenID Connect client secret comes from when no file names it: never a flag, which every local user can read. */
const SECRET_ENV = "TESSERA_UPSTREAM_CLIENT_SECRET";

const usage = (field: string, message: string) => new ValidationError("upstream.invalid", [{ field, code: "invalid", message }]);

function clientSecret(file: string | undefined, cwd: string, env: NodeJS.ProcessEnv): string {
  if (file) {
    try {
      return readFileSync(path.resolve(cwd, file), "utf8").trim();
    } catch (error) {
      throw usage("--client-secret-file", `${file}: ${(error as Error).message}`);
    }
  }
  const secret = env[SECRET_ENV];
  if (!secret) throw usage("--client-secret-file", `give the client secret in a file (--client-secret-file) or in ${SECRET_ENV}`);
  return secret;
}

const describe = (u: Upstream) =>
  u.protocol === "saml"
    ? { id: u.id, protocol: u.protocol, scheme: u.scheme, name: u.displayName, entityId: u.idp.entityId, sso: u.idp.ssoRedirect ?? u.idp.ssoPost, metadataUrl: u.metadataUrl ?? null }
    : { id: u.id, protocol: u.protocol, scheme: u.scheme, name: u.displayName, issuer: u.issuer, clientId: u.clientId };

const withTenant = (command: Command) => withSettingsOptions(command.requiredOption("--tenant <id>", "the broker tenant"));

/**
 * `tessera upstream add|list|remove`: the SPID/CIE identity providers a broker tenant signs its
 * users in through (docs/broker.md). SAML from metadata (a file, or a URL fetched again daily);
 * OpenID Connect from the issuer (discovery), with the client the tenant is registered as there.
 */
export function upstreamCommand(io: CliIo, _status: ExitStatus): Command {
  const add = withTenant(
    new Command("add")
      .description("Add an upstream identity provider (or replace one with the same id)")
      .requiredOption("--id <id>", "a short name for it, used in its URLs (lower-case letters, digits, hyphens)")
      .requiredOption("--name <name>", "its name, as its button shows it")
      .addOption(new Option("--scheme <scheme>", "the button it belongs to").choices([...UPSTREAM_SCHEMES]).default("spid"))
      .option("--saml-metadata <file-or-url>", "a SAML identity provider: its metadata (a URL is fetched again every day)")
      .option("--oidc-issuer <url>", "an OpenID Connect provider: its issuer (discovery)")
      .option("--client-id <id>", "with --oidc-issuer: the client id this tenant has there")
      .option("--client-secret-file <file>", `with --oidc-issuer: a file holding the client secret (or set ${SECRET_ENV})`)
      .option("--json", "print the upstream as JSON"),
  ).action(async (_options: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; id: string; name: string; scheme: UpstreamScheme; samlMetadata?: string; oidcIssuer?: string; clientId?: string; clientSecretFile?: string; json?: boolean }>();
    if (Boolean(o.samlMetadata) === Boolean(o.oidcIssuer)) throw usage("--saml-metadata", "give either --saml-metadata or --oidc-issuer");
    const base = { id: o.id, scheme: o.scheme, displayName: o.name };
    let input: Parameters<typeof putUpstream>[2];
    if (o.samlMetadata) {
      input = /^https?:\/\//i.test(o.samlMetadata)
        ? { ...base, protocol: "saml", metadataUrl: o.samlMetadata }
        : { ...base, protocol: "saml", metadata: await readMetadata(o.samlMetadata, io.cwd) };
    } else {
      if (!o.clientId) throw usage("--client-id", "an OpenID Connect upstream needs --client-id");
      input = { ...base, protocol: "oidc", issuer: o.oidcIssuer!, clientId: o.clientId, clientSecret: clientSecret(o.clientSecretFile, io.cwd, io.env) };
    }
    const upstream = await withServices(settingsFrom(command, io), async (store, deps) => putUpstream(deps, await tenantOf(store, o.tenant), input, BY));
    io.stdout.write(o.json ? `${JSON.stringify(describe(upstream), null, 2)}\n` : `${upstream.id}\n`);
  });

  const list = withTenant(new Command("list").description("List the tenant's upstream identity providers").option("--json", "print JSON")).action(async (_options: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean }>();
    const upstreams = await withServices(settingsFrom(command, io), async (store, deps) => listUpstreams(deps, await tenantOf(store, o.tenant)));
    if (o.json) {
      io.stdout.write(`${JSON.stringify(upstreams.map(describe), null, 2)}\n`);
      return;
    }
    for (const u of upstreams) io.stdout.write(`${u.id}  ${u.scheme}  ${u.protocol}  ${u.protocol === "saml" ? u.idp.entityId : u.issuer}  ${u.displayName}\n`);
  });

  const remove = withTenant(new Command("remove").description("Remove an upstream identity provider").argument("<id>")).action(async (id: string, _options: unknown, command: Command) => {
    const o = command.opts<{ tenant: string }>();
    await withServices(settingsFrom(command, io), async (store, deps) => removeUpstream(deps, await tenantOf(store, o.tenant), id, BY));
    io.stdout.write(`removed ${id}\n`);
  });

  return new Command("upstream").description("Manage the upstream SPID/CIE identity providers of a broker tenant").addCommand(add).addCommand(list).addCommand(remove);
}
