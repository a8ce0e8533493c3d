import { Command } from "commander";
import { DEFAULT_ACTIVATION_SECONDS, listSigningKeys, rotateSigningKeys, type SigningKey } from "../../federation/signing-keys.ts";
import { TesseraError, ValidationError } from "../../shared/errors.ts";
import { findTenant } from "../../tenants/service.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { withServices } from "../with-store.ts";

const iso = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());

function print(io: CliIo, keys: SigningKey[], json: boolean | undefined) {
  if (json) {
    io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  for (const k of keys) io.stdout.write(`${k.kid}  ${k.alg}  ${k.state.padEnd(8)}  signs from ${iso(k.activatesAt)}  until ${iso(k.retiresAt)}  published until ${iso(k.expiresAt)}\n`);
}

/** `tessera keys list|rotate`: a tenant's signing keys (JWKS of its OpenID provider). */
export function keysCommand(io: CliIo, _status: ExitStatus): Command {
  const withTenant = (command: Command) => withSettingsOptions(command.requiredOption("--tenant <id>", "the tenant whose keys they are").option("--json", "print JSON"));
  const load = async (store: Parameters<Parameters<typeof withServices>[1]>[0], id: string) => {
    const tenant = await findTenant(store.repos, id);
    if (!tenant) throw new TesseraError("tenant.not_found", `no tenant ${id}`, { status: 404 });
    return tenant;
  };

  const list = withTenant(new Command("list").description("List the published keys and when each signs")).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean }>();
    print(io, await withServices(settingsFrom(command, io), async (store, deps) => listSigningKeys(deps, await load(store, o.tenant))), o.json);
  });

  const rotate = withTenant(
    new Command("rotate")
      .description("Add new keys (RS256 and ES256); the old ones stop signing when the new ones start, and stay published while what they signed lives")
      .option("--activate-in <seconds>", `publish now, sign after this delay, so that every node knows the keys first (default ${DEFAULT_ACTIVATION_SECONDS})`),
  ).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean; activateIn?: string }>();
    const activateInSeconds = o.activateIn === undefined ? undefined : Number(o.activateIn);
    if (activateInSeconds !== undefined && (!Number.isInteger(activateInSeconds) || activateInSeconds < 0)) {
      throw new ValidationError("keys.invalid", [{ field: "--activate-in", code: "invalid.seconds", message: "takes a whole number of seconds" }]);
    }
    const added = await withServices(settingsFrom(command, io), async (store, deps) =>
      rotateSigningKeys(deps, await load(store, o.tenant), { actor: "cli" }, activateInSeconds === undefined ? {} : { activateInSeconds }),
    );
    print(io, added, o.json);
  });

  return new Command("keys").description("Manage a tenant's signing keys").addCommand(list).addCommand(rotate);
}
