import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Command } from "commander";
import { certifiedKey } from "../../card/certificates.ts";
import { CscClient, type RemoteCredential } from "../../card/csc-client.ts";
import { clientModulePath, defaultSocketPath, serveCard } from "../../card/p11kit/server.ts";
import { commandPrompter, terminalPrompter } from "../../card/prompt.ts";
import { CardError } from "../../card/errors.ts";
import { login, logout, readSession, sessionPath, TokenKeeper, writeSession } from "../../card/session.ts";
import { signPdfLocally } from "../../card/sign-pdf.ts";
import type { CliIo, ExitStatus } from "../io.ts";

/** The session of this desktop, its tokens kept fresh, and the CSC API through it. */
async function signedIn(io: CliIo) {
  const path = sessionPath(io.env);
  const tokens = new TokenKeeper(path, await readSession(path));
  return { path, tokens, csc: new CscClient(tokens) };
}

function describe(credential: RemoteCredential) {
  const leaf = credential.certificates[0];
  let key: ReturnType<typeof certifiedKey> | undefined;
  try {
    key = leaf ? certifiedKey(leaf) : undefined;
  } catch {
    key = undefined; // a key the card does not know: listed by its description
  }
  return {
    id: credential.id,
    organization: key?.label ?? credential.description,
    subject: key?.commonName ?? "",
    status: credential.status,
    key: key ? (key.key.type === "RSA" ? `RSA-${key.key.bits}` : `EC-P${key.key.size * 8}`) : "",
    validTo: key?.notAfter.toISOString().slice(0, 10) ?? "",
  };
}

/** The credential to sign with: the one asked for, or the only one that can sign. */
function choose(credentials: RemoteCredential[], wanted: string | undefined): RemoteCredential {
  const usable = credentials.filter((c) => c.status === "valid");
  const matches = wanted ? usable.filter((c) => c.id === wanted || describe(c).organization.toLowerCase().includes(wanted.toLowerCase())) : usable;
  if (matches.length === 1) return matches[0]!;
  const list = usable.map((c) => `  ${c.id}  ${describe(c).organization}`).join("\n");
  if (matches.length === 0) throw new CardError("refused", wanted ? `No certificate that can sign matches "${wanted}"${list ? `; these can:\n${list}` : ""}` : "No certificate of yours can sign (revoked, expired or none)");
  throw new CardError("refused", `Several certificates can sign: choose one with --credential\n${list}`);
}

/**
 * `tessera card`: the virtual card (seed 002's "tarjeta virtual"). The cloud certificates of a
 * professional, used from this desktop: signed in through the tenant's pages, PDFs signed here
 * with only their hash sent, and a PKCS#11 token (p11-kit) any smart-card application can use.
 */
export function cardCommand(io: CliIo, _status: ExitStatus): Command {
  const stdin = io.stdin ?? process.stdin;

  const loginCommand = new Command("login")
    .description("Sign this desktop in (DNI, password and one-time code, in the browser)")
    .requiredOption("--server <url>", "the Tessera server, e.g. https://id.example.eus")
    .requiredOption("--tenant <id>", "the tenant, e.g. pro")
    .option("--no-browser", "only print the address to open")
    .action(async (_o: unknown, command: Command) => {
      const o = command.opts<{ server: string; tenant: string; browser: boolean }>();
      const session = await login({
        server: o.server,
        tenant: o.tenant,
        show(url) {
          io.stdout.write(`Open this address in your browser and sign in:\n  ${url}\n`);
          if (o.browser && (io.env.DISPLAY || io.env.WAYLAND_DISPLAY)) spawn("xdg-open", [url], { stdio: "ignore", detached: true }).on("error", () => undefined).unref();
        },
      });
      const path = sessionPath(io.env);
      await writeSession(path, session);
      const credentials = await new CscClient(new TokenKeeper(path, session)).credentials();
      io.stdout.write(`Signed in to ${session.issuer} as ${session.holder.name}; ${credentials.length} certificate(s):\n`);
      for (const c of credentials.map(describe)) io.stdout.write(`  ${c.organization}  (${c.status}, until ${c.validTo})\n`);
    });

  const list = new Command("list")
    .description("List your cloud certificates")
    .option("--json", "print JSON")
    .action(async (_o: unknown, command: Command) => {
      const { csc } = await signedIn(io);
      const rows = (await csc.credentials()).map(describe);
      if (command.opts<{ json?: boolean }>().json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else for (const r of rows) io.stdout.write(`${r.id}  ${r.status.padEnd(8)} ${r.key.padEnd(8)} until ${r.validTo}  ${r.organization}  ${r.subject}\n`);
    });

  const sign = new Command("sign")
    .description("Sign a PDF (PAdES B-T): the hash is computed here, only it leaves this machine")
    .argument("<file>", "the PDF to sign")
    .option("--out <file>", "where to write the signed PDF (default: <name>-signed.pdf beside it)")
    .option("--credential <id-or-organization>", "which certificate signs, when you have several")
    .option("--reason <text>", "the reason written in the signature")
    .action(async (file: string, _o: unknown, command: Command) => {
      const o = command.opts<{ out?: string; credential?: string; reason?: string }>();
      const { csc } = await signedIn(io);
      const document = await readFile(file).catch(() => {
        throw new CardError("refused", `Cannot read ${file}`);
      });
      const credential = choose(await csc.credentials(), o.credential);
      const prompter = terminalPrompter(stdin, io.stderr as NodeJS.WritableStream);
      let signed: Uint8Array;
      try {
        const pin = await prompter.ask(`Signing password for ${describe(credential).organization}: `, { secret: true });
        signed = await signPdfLocally(csc, prompter, credential, document, { pin, ...(o.reason ? { reason: o.reason } : {}) });
      } finally {
        prompter.close();
      }
      const out = o.out ?? join(dirname(file), `${basename(file, ".pdf")}-signed.pdf`);
      await writeFile(out, signed);
      io.stdout.write(`Signed with the certificate of ${describe(credential).organization}: ${out}\n`);
    });

  const logoutCommand = new Command("logout").description("Sign this desktop out (the server forgets its tokens)").action(async () => {
    const { revoked } = await logout(sessionPath(io.env));
    io.stdout.write(revoked ? "Signed out.\n" : "Signed out here (the server could not be told).\n");
  });

  const serve = new Command("serve")
    .description("Serve the cloud certificates as a PKCS#11 token to p11-kit-client.so (p11-kit RPC on a Unix socket)")
    .option("--socket <path>", "the socket (default: $XDG_RUNTIME_DIR/p11-kit/pkcs11, where p11-kit-client.so looks)")
    .option("--ask-command <command>", "a program that asks for the one-time code (gets TESSERA_PROMPT, prints the answer); default: this terminal")
    .action(async (_o: unknown, command: Command) => {
      const o = command.opts<{ socket?: string; askCommand?: string }>();
      const { csc, tokens } = await signedIn(io);
      const socket = o.socket ?? defaultSocketPath(io.env);
      const prompter = o.askCommand ? commandPrompter(o.askCommand) : terminalPrompter(stdin, io.stderr as NodeJS.WritableStream);
      const server = await serveCard({ socket, csc, prompter, session: tokens.current, log: (line) => io.stderr.write(`${line}\n`) });
      const module = clientModulePath();
      io.stdout.write(
        [
          `Tessera virtual card: PKCS#11 through p11-kit on ${socket}`,
          module ? `PKCS#11 module for applications: ${module}` : "p11-kit-client.so is not installed: apt install p11-kit-modules",
          ...(o.socket ? [`Applications find this socket with P11_KIT_SERVER_ADDRESS=unix:path=${socket}`] : []),
          "One-time codes are asked here when a signature is made; Ctrl-C stops the card.",
        ].join("\n") + "\n",
      );
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(resolve, resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      // Standard input (where codes are typed) would keep the process alive.
      process.exit(0);
    });

  return new Command("card")
    .description("The virtual card: your cloud certificates on this desktop (docs/virtual-card.md)")
    .addCommand(loginCommand)
    .addCommand(list)
    .addCommand(sign)
    .addCommand(logoutCommand)
    .addCommand(serve);
}
