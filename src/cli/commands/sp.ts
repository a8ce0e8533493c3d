import { readFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { listServiceProviders, registerServiceProvider, removeServiceProvider } from "../../federation/saml/registry.ts";
import { MAX_METADATA_BYTES } from "../../federation/saml/xml.ts";
import { ValidationError } from "../../shared/errors.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { tenantOf, withServices } from "../with-store.ts";

const BY = { actor: "cli" };

const unreadable = (source: string, why: string) => new ValidationError("saml.metadata_unreadable", [{ field: "--metadata", code: "invalid.file", message: `${source}: ${why}` }]);

/** The metadata from a file, or from a URL (https, or http for a service on this machine). */
export async function readMetadata(source: string, cwd: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    let response: Response;
    try {
      response = await fetch(source, { signal: AbortSignal.timeout(10_000), redirect: "error" });
    } catch (error) {
      throw unreadable(source, (error as Error).message);
    }
    if (!response.ok) throw unreadable(source, `HTTP ${response.status}`);
    const body = await response.text();
    if (Buffer.byteLength(body) > MAX_METADATA_BYTES) throw unreadable(source, "larger than 1 MiB");
    return body;
  }
  try {
    return readFileSync(path.resolve(cwd, source), "utf8");
  } catch (error) {
    throw unreadable(source, (error as Error).message);
  }
}

const withTenant = (command: Command) => withSettingsOptions(command.requiredOption("--tenant <id>", "the tenant whose service provider it is"));

/** `tessera sp add|list|remove`: SAML service providers of a tenant, registered from their metadata. */
export function spCommand(io: CliIo, _status: ExitStatus): Command {
  const add = withTenant(
    new Command("add")
      .description("Register a SAML service provider (or update it) from its metadata; prints its entityID")
      .requiredOption("--metadata <file-or-url>", "the SP's metadata: a file, or an https URL"),
  ).action(async (_options: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; metadata: string }>();
    const metadata = await readMetadata(o.metadata, io.cwd);
    const sp = await withServices(settingsFrom(command, io), async (store, deps) => registerServiceProvider(deps, await tenantOf(store, o.tenant), metadata, BY));
    io.stdout.write(`${sp.entityId}\n`);
  });

  const list = withTenant(new Command("list").description("List the tenant's SAML service providers").option("--json", "print JSON")).action(async (_options: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean }>();
    const sps = await withServices(settingsFrom(command, io), async (store, deps) => listServiceProviders(deps, await tenantOf(store, o.tenant)));
    if (o.json) {
      io.stdout.write(`${JSON.stringify(sps, null, 2)}\n`);
      return;
    }
    for (const sp of sps) {
      const acs = sp.assertionConsumerServices.map((a) => a.index).join(",");
      const sets = sp.attributeConsumingServices.map((a) => `${a.index}:${a.attributes.length}`).join(",");
      io.stdout.write(`${sp.entityId}  acs=${acs}  attributes=${sets || "-"}  ${sp.name}\n`);
    }
  });

  const remove = withTenant(new Command("remove").description("Remove a service provider, its sessions and the consents given to it").argument("<entity-id>")).action(
    async (entityId: string, _options: unknown, command: Command) => {
      const o = command.opts<{ tenant: string }>();
      await withServices(settingsFrom(command, io), async (store, deps) => removeServiceProvider(deps, await tenantOf(store, o.tenant), entityId, BY));
      io.stdout.write(`removed ${entityId}\n`);
    },
  );

  return new Command("sp").description("Manage SAML service providers (SPID profile)").addCommand(add).addCommand(list).addCommand(remove);
}
