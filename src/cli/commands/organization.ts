import { Command } from "commander";
import { findAccountByIdentifier } from "../../identity/accounts.ts";
import { addRepresentative, createOrganization, findOrganization, listOrganizations, removeRepresentative } from "../../identity/organizations.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { tenantOf, withServices } from "../with-store.ts";

const BY = { actor: "cli" };
const withTenant = (command: Command) => withSettingsOptions(command.requiredOption("--tenant <id>", "the tenant").option("--json", "print JSON"));

/**
 * `tessera org add|list|representative`: the organisations professionals belong to, and who
 * represents each (docs/professionals.md). A representative is an active account of the tenant.
 */
export function organizationCommand(io: CliIo, _status: ExitStatus): Command {
  const add = withTenant(
    new Command("add").description("Register an organisation").requiredOption("--name <name>", "its name, as certificates will carry it").requiredOption("--tax-id <cif>", "its tax number (CIF)"),
  ).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; name: string; taxId: string; json?: boolean }>();
    const organization = await withServices(settingsFrom(command, io), async (store, deps) => createOrganization(deps, await tenantOf(store, o.tenant), { name: o.name, taxId: o.taxId }, BY));
    io.stdout.write(o.json ? `${JSON.stringify(organization, null, 2)}\n` : `${organization.id}  ${organization.taxId}  ${organization.name}\n`);
  });

  const list = withTenant(new Command("list").description("List the organisations and their representatives")).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean }>();
    const rows = await withServices(settingsFrom(command, io), async (store, deps) => {
      const tenant = await tenantOf(store, o.tenant);
      const out = [];
      for (const organization of await listOrganizations(deps, tenant)) {
        const representatives = [];
        for (const id of await deps.repos.professionals.representatives(tenant.id, organization.id)) representatives.push((await deps.repos.accounts.find(tenant.id, id))?.identifier ?? id);
        out.push({ ...organization, representatives });
      }
      return out;
    });
    if (o.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else for (const r of rows) io.stdout.write(`${r.id}  ${r.taxId}  ${r.name}${r.representatives.length ? `  (${r.representatives.join(", ")})` : ""}\n`);
  });

  const representative = (verb: "add" | "remove") =>
    withTenant(
      new Command(verb)
        .description(verb === "add" ? "Make an account a representative of the organisation" : "Take the role away")
        .requiredOption("--org <id-or-cif>", "the organisation (its id or tax number)")
        .requiredOption("--account <identifier>", "the account (its DNI)"),
    ).action(async (_o: unknown, command: Command) => {
      const o = command.opts<{ tenant: string; org: string; account: string }>();
      const done = await withServices(settingsFrom(command, io), async (store, deps) => {
        const tenant = await tenantOf(store, o.tenant);
        const organization = await findOrganization(deps, tenant, o.org);
        const account = await findAccountByIdentifier(deps, tenant, o.account);
        if (!account) throw new TesseraError("account.not_found", `no account ${o.account} in tenant ${tenant.id}`, { status: 404 });
        if (verb === "add") {
          await addRepresentative(deps, tenant, organization, account, BY);
          return true;
        }
        return removeRepresentative(deps, tenant, organization, account, BY);
      });
      if (!done) throw new TesseraError("organization.not_representative", `${o.account} does not represent ${o.org}`, { status: 404 });
      io.stdout.write(`${o.account}: ${verb === "add" ? "represents" : "no longer represents"} ${o.org}\n`);
    });

  return new Command("org")
    .description("Manage the organisations of professionals (seed 002) and their representatives")
    .addCommand(add)
    .addCommand(list)
    .addCommand(new Command("representative").description("Manage who represents an organisation").addCommand(representative("add")).addCommand(representative("remove")));
}
