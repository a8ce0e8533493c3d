import { Command, Option } from "commander";
import { findAccountByIdentifier } from "../../identity/accounts.ts";
import { grantOperatorRole, OPERATOR_ROLES, type OperatorRole, revokeOperatorRole } from "../../identity/operators.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { tenantOf, withServices } from "../with-store.ts";

const BY = { actor: "cli" };
const withTenant = (command: Command) => withSettingsOptions(command.requiredOption("--tenant <id>", "the tenant").option("--json", "print JSON"));

/**
 * `tessera operator add|list|remove`: the staff who verify identities (docs/proofing.md). An
 * operator is an active account of the tenant; a registration officer works at one of its points.
 */
export function operatorCommand(io: CliIo, _status: ExitStatus): Command {
  const add = withTenant(
    new Command("add")
      .description("Give an account a staff role")
      .requiredOption("--account <identifier>", "the account (its e-mail, DNI or codice persona)")
      .addOption(new Option("--role <role>", "the role").choices([...OPERATOR_ROLES]).makeOptionMandatory())
      .option("--point <id>", "the registration point of a registration officer, the desk of a desk officer"),
  ).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; account: string; role: OperatorRole; point?: string }>();
    await withServices(settingsFrom(command, io), async (store, deps) => {
      const tenant = await tenantOf(store, o.tenant);
      const account = await findAccountByIdentifier(deps, tenant, o.account);
      if (!account) throw new TesseraError("account.not_found", `no account ${o.account} in tenant ${tenant.id}`, { status: 404 });
      await grantOperatorRole(deps, tenant, account, { role: o.role, point: o.point ?? null }, BY);
    });
    io.stdout.write(`${o.account}: ${o.role}${o.point ? ` at ${o.point}` : ""}\n`);
  });

  const list = withTenant(new Command("list").description("List the staff and their roles")).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; json?: boolean }>();
    const rows = await withServices(settingsFrom(command, io), async (store, deps) => {
      const tenant = await tenantOf(store, o.tenant);
      const out: { account: string; role: string; point: string | null }[] = [];
      for (const r of await deps.repos.proofing.operators(tenant.id)) {
        const account = await deps.repos.accounts.find(tenant.id, r.account_id);
        out.push({ account: account?.identifier ?? r.account_id, role: r.role, point: r.point });
      }
      return out;
    });
    if (o.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else for (const r of rows) io.stdout.write(`${r.account}  ${r.role}${r.point ? `  ${r.point}` : ""}\n`);
  });

  const remove = withTenant(
    new Command("remove")
      .description("Take a staff role away")
      .requiredOption("--account <identifier>", "the account")
      .addOption(new Option("--role <role>", "the role").choices([...OPERATOR_ROLES]).makeOptionMandatory()),
  ).action(async (_o: unknown, command: Command) => {
    const o = command.opts<{ tenant: string; account: string; role: OperatorRole }>();
    const removed = await withServices(settingsFrom(command, io), async (store, deps) => {
      const tenant = await tenantOf(store, o.tenant);
      const account = await findAccountByIdentifier(deps, tenant, o.account);
      if (!account) throw new TesseraError("account.not_found", `no account ${o.account} in tenant ${tenant.id}`, { status: 404 });
      return revokeOperatorRole(deps, tenant, account, o.role, BY);
    });
    if (!removed) throw new TesseraError("operator.not_found", `${o.account} is not a ${o.role}`, { status: 404 });
    io.stdout.write(`removed ${o.role} from ${o.account}\n`);
  });

  return new Command("operator").description("Manage the staff who verify identities").addCommand(add).addCommand(list).addCommand(remove);
}
