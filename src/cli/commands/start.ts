import { Command } from "commander";
import { startServer } from "../../server.ts";
import type { CliIo, ExitStatus } from "../io.ts";
import { settingsFrom, withSettingsOptions } from "../settings-options.ts";

/** How long requests in hand get to finish once the node closes, before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export function startCommand(io: CliIo, _status: ExitStatus): Command {
  return withSettingsOptions(
    new Command("start")
      .description("Run the server: apply migrations, then serve every tenant over HTTP")
      .option("--demo", "create the demo tenants (national, university, pro) if they do not exist"),
  ).action(async (_options: unknown, command: Command) => {
    const settings = settingsFrom(command, io);
    const server = await startServer(settings, { demo: command.opts<{ demo?: boolean }>().demo === true });
    // One write: the server's own log lines go to the same stdout and must not land inside the banner.
    const banner = [
      `Tessera listening on ${server.baseUrl}`,
      ...server.tenantUrls.map((tenant) => `  ${tenant.url}  ${tenant.displayName}`),
      ...(server.devMode ? ["Development mode: every page says so; messages sent are listed at <tenant URL>dev/outbox"] : []),
    ];
    io.stdout.write(`${banner.join("\n")}\n`);

    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) return;
      closing = true;
      server.app.log.info({ signal, drainSeconds: settings.shutdownDrain }, "shutting down");
      // First out of the load balancer's rotation (/readyz 503, still serving), then closed:
      // new connections refused, those in hand finished, then the store.
      server.app.lifecycle.stopping = true;
      new Promise((resolve) => setTimeout(resolve, settings.shutdownDrain * 1000))
        .then(() => {
          // Whenever no request is in hand (or once the grace is over), the connections left are
          // cut: one whose request never finished arriving (a client gone mid-request) would
          // otherwise hold the close until Node's header timeout, a minute on. Checked until the
          // process exits, as the server still takes requests while the outbox worker and the
          // jobs stop before it.
          const cutAt = Date.now() + SHUTDOWN_GRACE_MS;
          setInterval(() => {
            if (server.app.lifecycle.inFlight === 0 || Date.now() > cutAt) server.app.server.closeAllConnections();
          }, 50).unref();
          return server.close();
        })
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
