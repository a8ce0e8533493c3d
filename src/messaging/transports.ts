import nodemailer from "nodemailer";
import { z } from "zod";

/** Where messages leave the system. A missing transport keeps its messages queued. */
export interface Transports {
  email?: EmailTransport;
  sms?: SmsTransport;
}

export interface EmailTransport {
  /** `id` is the message's own id: the e-mail's Message-ID is made from it, the same on every attempt. */
  send(message: { id: string; to: string; subject: string; text: string; html?: string | undefined }): Promise<void>;
  close(): void;
}

export interface SmsTransport {
  /** `id` is the message's own id, for gateways that take a client reference (`{{id}}`). */
  send(message: { id: string; to: string; text: string }): Promise<void>;
}

/**
 * E-mail over SMTP with nodemailer. `smtps://` is TLS from the start; `smtp://` upgrades with
 * STARTTLS when the server offers it (add `?requireTLS=true` to insist); credentials go in the URL.
 */
export function smtpTransport(options: { url: string; from: string }): EmailTransport {
  // Bounded waits (nodemailer's defaults run to minutes): the outbox lease assumes 30 s at most.
  const url = new URL(options.url);
  for (const [name, ms] of [["connectionTimeout", 10_000], ["greetingTimeout", 10_000], ["socketTimeout", 20_000]] as const) {
    if (!url.searchParams.has(name)) url.searchParams.set(name, String(ms));
  }
  const transporter = nodemailer.createTransport(url.toString());
  // The sender's domain names the Message-IDs (RFC 5322 §3.6.4: unique left part, the domain right).
  const domain = /@([^>\s]+)>?\s*$/.exec(options.from)?.[1] ?? "tessera.invalid";
  return {
    async send({ id, ...message }) {
      // A retry after an answer that never came (the connection lost after the server took the
      // message, or this node stopped before marking it sent) carries the same Message-ID, so the
      // receiving side can tell it is the same message, not a second one.
      await transporter.sendMail({ from: options.from, messageId: `<${id}@${domain}>`, ...message });
    },
    close: () => transporter.close(),
  };
}

export const SmsGatewayConfig = z
  .object({
    url: z.url(),
    method: z.enum(["POST", "PUT", "GET"]).default("POST"),
    format: z.enum(["json", "form"]).default("json"),
    /** Headers, e.g. {"Authorization": "Bearer …"}. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Body template with {{to}}, {{text}}, {{from}} and {{id}}; values are escaped for the format. */
    body: z.string().optional(),
    from: z.string().default("Tessera"),
  })
  // With GET the body becomes the query string, which only the form encoding makes safe.
  .refine((c) => c.method !== "GET" || c.format === "form", { message: "GET needs the form format", path: ["format"] });
export type SmsGatewayConfig = z.infer<typeof SmsGatewayConfig>;

const DEFAULT_BODIES = {
  json: '{"to":"{{to}}","from":"{{from}}","text":"{{text}}"}',
  form: "to={{to}}&from={{from}}&text={{text}}",
} as const;

/**
 * SMS through an HTTP gateway, as most SMS providers offer one: a request whose body is built from
 * a template. Any 2xx answer is success; anything else (or no answer in 10 s) is a failure that the
 * outbox retries.
 */
export function httpSmsTransport(config: SmsGatewayConfig): SmsTransport {
  const template = config.body ?? DEFAULT_BODIES[config.format];
  const escape = config.format === "json" ? (v: string) => JSON.stringify(v).slice(1, -1) : encodeURIComponent;
  const contentType = config.format === "json" ? "application/json" : "application/x-www-form-urlencoded";
  // Fail at start-up, not at the first SMS, if the template cannot produce valid JSON.
  if (config.format === "json") {
    JSON.parse(render(template, { id: "id", to: "+390000000", text: 'a "quoted"\ntext', from: config.from }, escape));
  }

  return {
    async send({ id, to, text }) {
      const body = render(template, { id, to, text, from: config.from }, escape);
      const url = config.method === "GET" ? `${config.url}${config.url.includes("?") ? "&" : "?"}${body}` : config.url;
      const response = await fetch(url, {
        method: config.method,
        headers: { ...(config.method === "GET" ? {} : { "content-type": contentType }), ...config.headers },
        ...(config.method === "GET" ? {} : { body }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
    },
  };
}

function render(template: string, values: Record<string, string>, escape: (v: string) => string): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, name: string) => (name in values ? escape(values[name]!) : m));
}
