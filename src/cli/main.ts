import { Command, CommanderError } from "commander";
import { MasterKeyError } from "../shared/crypto/master-key.ts";
import { SettingsError } from "../shared/config/settings.ts";
import { TesseraError, ValidationError } from "../shared/errors.ts";
import { StoreError } from "../store/db.ts";
import { CardError } from "../card/errors.ts";
import { auditCommand } from "./commands/audit.ts";
import { cardCommand } from "./commands/card.ts";
import { clientCommand } from "./commands/client.ts";
import { keysCommand } from "./commands/keys.ts";
import { operatorCommand } from "./commands/operator.ts";
import { organizationCommand } from "./commands/organization.ts";
import { pkiCommand } from "./commands/pki.ts";
import { spCommand } from "./commands/sp.ts";
import { upstreamCommand } from "./commands/upstream.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { startCommand } from "./commands/start.ts";
import { tenantCommand } from "./commands/tenant.ts";
import type { CliIo } from "./io.ts";

/**
 * `tessera` command line. Exit codes: 0 success, 1 failure (including a broken audit chain),
 * 2 bad usage or an invalid setting.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const status = { code: 0 };
  const program = new Command("tessera")
    .description("Tessera electronic-identity server")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(add --help for usage)");
  // Subcommands inherit the overrides above only when they are set before they are added.
  for (const command of [startCommand, migrateCommand, tenantCommand, clientCommand, keysCommand, spCommand, upstreamCommand, pkiCommand, operatorCommand, organizationCommand, auditCommand, cardCommand]) {
    program.addCommand(command(io, status));
  }
  program.commands.forEach(function inherit(c: Command) {
    c.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    c.commands.forEach(inherit);
  });

  try {
    await program.parseAsync(argv, { from: "user" });
    return status.code;
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof SettingsError || err instanceof MasterKeyError || err instanceof ValidationError) {
    io.stderr.write(`tessera: ${message}\n`);
    return 2;
  }
  if (err instanceof CardError) {
    io.stderr.write(`tessera card: ${message}\n`);
    return 1;
  }
  if (err instanceof TesseraError || err instanceof StoreError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    io.stderr.write(`tessera: ${message}${cause}\n`);
    return 1;
  }
  io.stderr.write(`tessera: unexpected error: ${err instanceof Error ? (err.stack ?? message) : message}\n`);
  return 1;
}
