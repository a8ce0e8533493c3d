import { Command } from "commander";
import { openStore } from "../../store/db.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";

export function migrateCommand(io: CliIo, _status: ExitStatus): Command {
  return withSettingsOptions(
    new Command("migrate").description("Apply pending database migrations (safe to run on several nodes at once)"),
  ).action(async (_options: unknown, command: Command) => {
    const settings = settingsFrom(command, io);
    const store = openStore(settings.databaseUrl, { poolSize: 2 });
    try {
      const applied = await store.migrate();
      io.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "the database schema is up to date\n");
    } finally {
      await store.close();
    }
  });
}
