import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { systemClock } from "../../shared/clock.ts";
import { TesseraError } from "../../shared/errors.ts";
import { LOCALES } from "../../shared/i18n/locales.ts";
import { ensureDecoyHashes } from "../../identity/password/decoy.ts";
import { createTenant, findTenant, listTenants } from "../../tenants/service.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { withStore } from "../with-store.ts";

export function tenantCommand(io: CliIo, _status: ExitStatus): Command {
  const list = withSettingsOptions(
    new Command("list").description("List the tenants").option("--json", "print JSON"),
  ).action(async (_options: unknown, command: Command) => {
    const tenants = await withStore(settingsFrom(command, io), (store) => listTenants(store.repos));
    if (command.opts<{ json?: boolean }>().json) {
      io.stdout.write(`${JSON.stringify(tenants.map(shown), null, 2)}\n`);
      return;
    }
    const rows = tenants.map((t) => [t.id, t.locales.join(","), t.policy.identifier, t.displayName]);
    io.stdout.write(table([["ID", "LOCALES", "IDENTIFIER", "NAME"], ...rows]));
  });

  const show = withSettingsOptions(
    new Command("show").description("Show one tenant, with its policy, as JSON").argument("<id>", "tenant id"),
  ).action(async (id: string, _options: unknown, command: Command) => {
    const tenant = await withStore(settingsFrom(command, io), (store) => findTenant(store.repos, id));
    if (!tenant) throw notFound(id);
    io.stdout.write(`${JSON.stringify(shown(tenant), null, 2)}\n`);
  });

  const create = withSettingsOptions(
    new Command("create")
      .description("Create a tenant")
      .argument("<id>", "tenant id: lower-case letters, digits and hyphens; its issuer is <base-url>/t/<id>")
      .option("--name <name>", "display name")
      .addOption(new Option("--locale <locale...>", "languages offered, the first is the default").choices(LOCALES))
      .addOption(
        new Option("--identifier <kind>", "what identifies accounts").choices(["email", "dni", "codice_persona"]),
      )
      .option("--from-file <file>", "a JSON or YAML tenant document (displayName, locales, policy, branding)")
      .option("--json", "print the created tenant as JSON"),
  ).action(async (id: string, _options: unknown, command: Command) => {
    const opts = command.opts<{ name?: string; locale?: string[]; identifier?: string; fromFile?: string; json?: boolean }>();
    const document = opts.fromFile ? readDocument(path.resolve(io.cwd, opts.fromFile)) : {};
    const input = {
      ...document,
      id,
      ...(opts.name !== undefined ? { displayName: opts.name } : {}),
      ...(opts.locale !== undefined ? { locales: opts.locale } : {}),
      ...(opts.identifier !== undefined
        ? { policy: { ...(document.policy as object | undefined), identifier: opts.identifier } }
        : {}),
    };
    const tenant = await withStore(settingsFrom(command, io), async (store) => {
      const created = await createTenant(store, systemClock, input, { actor: "cli" });
      // Its decoy is made now, so that no node has to make one during a sign-in.
      await ensureDecoyHashes(store.repos, [created]);
      return created;
    });
    io.stdout.write(opts.json ? `${JSON.stringify(shown(tenant), null, 2)}\n` : `created tenant ${tenant.id}\n`);
  });

  return new Command("tenant").description("Manage tenants").addCommand(list).addCommand(show).addCommand(create);
}

function readDocument(file: string): Record<string, unknown> {
  const text = readFileSync(file, "utf8");
  const parsed: unknown = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TesseraError("tenant.invalid", `${file} must hold a tenant document (an object)`);
  }
  return parsed as Record<string, unknown>;
}

function notFound(id: string): TesseraError {
  return new TesseraError("tenant.not_found", `no tenant ${id}`, { status: 404, params: { tenant: id } });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

/** A tenant as operators read it: its decoy hash is an internal of sign-in, not configuration. */
function shown(tenant: Tenant): Omit<Tenant, "decoyHash"> {
  const { decoyHash: _internal, ...rest } = tenant;
  return rest;
}
