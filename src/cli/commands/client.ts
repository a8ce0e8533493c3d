import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { AUTH_METHODS, type ClientInput, createClient, deleteClient, findClient, GRANTS, listClients } from "../../federation/oidc/clients.ts";
import { standaloneProviders } from "../../federation/oidc/providers.ts";
import { resolveBaseUrl } from "../../shared/config/settings.ts";
import { ValidationError } from "../../shared/errors.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { tenantOf, withServices } from "../with-store.ts";

const BY = { actor: "cli" };

/** The client's JWK Set from a file: a file that cannot be read or parsed is bad usage, named as such. */
function readJwks(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ValidationError("client.invalid", [{ field: "--jwks", code: "invalid.file", message: `${file}: ${(error as Error).message}` }]);
  }
}

const withTenant = (command: Command) => withSettingsOptions(command.requiredOption("--tenant <id>", "the tenant whose client it is"));

/** `tessera client create|list|show|delete`: relying parties of a tenant's OpenID provider. */
export function clientCommand(io: CliIo, _status: ExitStatus): Command {
  const create = withTenant(
    new Command("create")
      .description("Register a relying party; prints its client_id (and client_secret, shown this once)")
      .requiredOption("--name <name>", "its name, shown on the consent screen")
      .option("--redirect-uri <url...>", "where users come back after signing in (https, or http to localhost)")
      .option("--post-logout-redirect-uri <url...>", "where users may go after signing out")
      .addOption(new Option("--grant <grant...>", "grant types (default authorization_code)").choices([...GRANTS]))
      .addOption(new Option("--auth-method <method>", "how it authenticates at the token endpoint").choices([...AUTH_METHODS]))
      .option("--jwks <file>", "its public keys (a JWK Set), for private_key_jwt and signed request objects")
      .option("--scope <scope...>", "scopes it may ask for (default all)")
      .option("--claim <claim...>", "claims it may receive (default all)")
      .option("--level <level...>", "levels it may ask for: 1, 2 (default both)")
      .option("--pairwise", "a pairwise subject identifier instead of the account id")
      .addOption(new Option("--id-token-alg <alg>", "how its ID tokens are signed").choices(["RS256", "ES256"]))
      .option("--backchannel-logout-uri <url>", "where it is told of logouts (OIDC Back-Channel Logout)")
      .option("--resource <uri...>", "APIs it may get JWT access tokens for (RFC 8707 resource indicators)")
      .option("--require-par", "only pushed authorization requests (RFC 9126)")
      .option("--require-signed-request-object", "only signed request objects (RFC 9101)")
      .option("--json", "print the client_id and client_secret as JSON"),
  ).action(async (_options: unknown, command: Command) => {
    const o = command.opts<{
      tenant: string;
      name: string;
      redirectUri?: string[];
      postLogoutRedirectUri?: string[];
      grant?: string[];
      authMethod?: string;
      jwks?: string;
      scope?: string[];
      claim?: string[];
      level?: string[];
      pairwise?: boolean;
      idTokenAlg?: string;
      backchannelLogoutUri?: string;
      resource?: string[];
      requirePar?: boolean;
      requireSignedRequestObject?: boolean;
      json?: boolean;
    }>();
    const input = {
      name: o.name,
      ...(o.redirectUri ? { redirectUris: o.redirectUri } : {}),
      ...(o.postLogoutRedirectUri ? { postLogoutRedirectUris: o.postLogoutRedirectUri } : {}),
      ...(o.grant ? { grants: o.grant } : {}),
      ...(o.authMethod ? { authMethod: o.authMethod } : {}),
      ...(o.jwks ? { jwks: readJwks(path.resolve(io.cwd, o.jwks)) } : {}),
      ...(o.scope ? { scopes: o.scope } : {}),
      ...(o.claim ? { claims: o.claim } : {}),
      ...(o.level ? { levels: o.level.map(Number) } : {}),
      ...(o.pairwise ? { subjectType: "pairwise" } : {}),
      ...(o.idTokenAlg ? { idTokenAlg: o.idTokenAlg } : {}),
      ...(o.backchannelLogoutUri ? { backchannelLogoutUri: o.backchannelLogoutUri } : {}),
      ...(o.resource ? { resources: o.resource } : {}),
      ...(o.requirePar ? { requirePushedAuthorizationRequests: true } : {}),
      ...(o.requireSignedRequestObject ? { requireSignedRequestObject: true } : {}),
    } as ClientInput;
    const settings = settingsFrom(command, io);
    const { client, secret } = await withServices(settings, async (store, deps) => {
      const tenant = await tenantOf(store, o.tenant);
      const providers = standaloneProviders(deps, resolveBaseUrl(settings, settings.port), {
        error: () => undefined,
        warn: () => undefined,
      });
      return createClient(deps, tenant, input, (metadata) => providers.validateClient(tenant, metadata), BY);
    });
    if (o.json) {
      io.stdout.write(`${JSON.stringify({ client_id: client.client_id, ...(secret ? { client_secret: secret } : {}) })}\n`);
      return;
    }
    io.stdout.write(`created client ${client.client_id} (${client.name})\n`);
    if (secret) io.stdout.write(`client secret (shown only now): ${secret}\n`);
  });

  const list = withTenant(new Command("list").description("List the tenant's relying parties").option("--json", "print JSON")).action(
    async (_options: unknown, command: Command) => {
      const o = command.opts<{ tenant: string; json?: boolean }>();
      const clients = await withServices(settingsFrom(command, io), async (store, deps) => listClients(deps, await tenantOf(store, o.tenant)));
      if (o.json) {
        io.stdout.write(`${JSON.stringify(clients, null, 2)}\n`);
        return;
      }
      for (const c of clients) io.stdout.write(`${c.client_id}  ${c.auth_method.padEnd(19)}  ${c.grants.join(",").padEnd(46)}  ${c.name}\n`);
    },
  );

  const show = withTenant(new Command("show").description("Show one relying party as JSON").argument("<client-id>")).action(
    async (clientId: string, _options: unknown, command: Command) => {
      const o = command.opts<{ tenant: string }>();
      const client = await withServices(settingsFrom(command, io), async (store, deps) => findClient(deps, await tenantOf(store, o.tenant), clientId));
      io.stdout.write(`${JSON.stringify(client, null, 2)}\n`);
    },
  );

  const remove = withTenant(
    new Command("delete").description("Remove a relying party and every code and token issued to it").argument("<client-id>"),
  ).action(async (clientId: string, _options: unknown, command: Command) => {
    const o = command.opts<{ tenant: string }>();
    await withServices(settingsFrom(command, io), async (store, deps) => deleteClient(deps, await tenantOf(store, o.tenant), clientId, BY));
    io.stdout.write(`deleted client ${clientId}\n`);
  });

  return new Command("client").description("Manage OpenID Connect relying parties").addCommand(create).addCommand(list).addCommand(show).addCommand(remove);
}
