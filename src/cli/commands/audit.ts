import { Command } from "commander";
import { verifyAuditChain } from "../../audit/service.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";
import { withStore } from "../with-store.ts";

export function auditCommand(io: CliIo, status: ExitStatus): Command {
  const verify = withSettingsOptions(
    new Command("verify")
      .description("Check that the audit log's hash chains are intact; exit 1 naming the first broken entry")
      .option("--tenant <id>", "check only this tenant's chain"),
  ).action(async (_options: unknown, command: Command) => {
    const settings = settingsFrom(command, io);
    const only = command.opts<{ tenant?: string }>().tenant;
    await withStore(settings, async (store) => {
      const chains = only ? [only] : await store.repos.audit.chainIds();
      for (const tenantId of chains) {
        const report = await verifyAuditChain(store.repos, tenantId);
        if (report.intact) {
          io.stdout.write(`${tenantId}: intact, ${report.entries} ${report.entries === 1 ? "entry" : "entries"}\n`);
        } else {
          io.stdout.write(`${tenantId}: BROKEN at entry ${report.brokenAt}: ${report.problem}\n`);
          status.code = 1;
        }
      }
      if (chains.length === 0) io.stdout.write("no audit entries yet\n");
    });
  });
  return new Command("audit").description("Audit log tools").addCommand(verify);
}
