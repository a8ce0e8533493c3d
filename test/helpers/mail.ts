import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface TestSmtpServer {
  port: number;
  url: string;
  messages: ParsedMail[];
  /** Stops listening (an outage); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Resolves when `count` messages have arrived in all. */
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** Resolves with the messages addressed to `address` when `count` of them have arrived (others may go elsewhere). */
  waitForMailsTo(address: string, count?: number, timeoutMs?: number): Promise<ParsedMail[]>;
}

const addressedTo = (mail: ParsedMail, address: string) =>
  [mail.to ?? []].flat().some((to) => to.value.some((v) => v.address?.toLowerCase() === address.toLowerCase()));

/**
 * A real SMTP server on loopback (the `smtp-server` package) that requires AUTH and keeps what it
 * receives, parsed. No STARTTLS: the test certificate would not verify.
 */
export async function startSmtpServer(credentials = { user: "tessera", pass: "s3cret" }): Promise<TestSmtpServer> {
  const messages: ParsedMail[] = [];
  let port = 0;
  let server: SMTPServer | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = new SMTPServer({
        disabledCommands: ["STARTTLS"],
        allowInsecureAuth: true,
        logger: false,
        onAuth(auth, _session, callback) {
          if (auth.username === credentials.user && auth.password === credentials.pass) callback(null, { user: auth.username });
          else callback(new Error("invalid credentials"));
        },
        onData(stream, _session, callback) {
          simpleParser(stream)
            .then((mail) => {
              messages.push(mail);
              callback();
            })
            .catch(callback);
        },
      });
      server.on("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server!.server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();

  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://${credentials.user}:${credentials.pass}@127.0.0.1:${port}`;
    },
    messages,
    stop: () => new Promise<void>((resolve) => server!.close(() => resolve())),
    start: listen,
    async waitFor(count, timeoutMs = 10_000) {
      const started = Date.now();
      while (messages.length < count) {
        if (Date.now() - started > timeoutMs) throw new Error(`only ${messages.length} of ${count} e-mails arrived`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return messages;
    },
    async waitForMailsTo(address, count = 1, timeoutMs = 10_000) {
      const started = Date.now();
      for (;;) {
        const mails = messages.filter((m) => addressedTo(m, address));
        if (mails.length >= count) return mails;
        if (Date.now() - started > timeoutMs) throw new Error(`${mails.length} of ${count} e-mails to ${address} arrived, among ${messages.length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
