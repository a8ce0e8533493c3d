import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedSms {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface TestSmsGateway {
  url: string;
  received: ReceivedSms[];
  /** What the gateway answers; 503 simulates a provider outage. */
  status: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The text of every SMS sent to `to`, parsed from JSON bodies. */
  textsTo(to: string): string[];
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedSms[]>;
}

/** A local HTTP server standing in for an SMS provider's HTTP API. */
export async function startSmsGateway(): Promise<TestSmsGateway> {
  const received: ReceivedSms[] = [];
  let port = 0;
  let server: Server | undefined;
  const gateway: TestSmsGateway = {
    url: "",
    received,
    status: 200,
    stop: () => new Promise<void>((resolve) => server!.close(() => resolve())),
    start: listen,
    textsTo: (to) =>
      received
        .filter((r) => r.method !== "GET")
        .map((r) => JSON.parse(r.body) as { to: string; text: string })
        .filter((m) => m.to === to)
        .map((m) => m.text),
    async waitFor(count, timeoutMs = 10_000) {
      const started = Date.now();
      while (received.length < count) {
        if (Date.now() - started > timeoutMs) throw new Error(`only ${received.length} of ${count} SMS arrived`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
  };
  function listen() {
    return new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          if (gateway.status < 300) received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
          res.writeHead(gateway.status, { "content-type": "application/json", connection: "close" }).end('{"id":"sms-1"}');
        });
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as AddressInfo).port;
        gateway.url = `http://127.0.0.1:${port}/sms`;
        resolve();
      });
    });
  }
  await listen();
  return gateway;
}
