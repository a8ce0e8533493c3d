import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * Every server setting, defined once. The table drives the command-line flags, the environment
 * variables, the config-file keys, validation and the reference table in the README: a setting
 * that is not here does not exist.
 *
 * Precedence, highest first: flag, environment variable, config file, default.
 */
export const settingDefinitions = {
  port: {
    flag: "--port <number>",
    env: "TESSERA_PORT",
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8080,
    doc: "TCP port to listen on (0 picks a free port).",
  },
  host: {
    flag: "--host <address>",
    env: "TESSERA_HOST",
    schema: z.string().min(1),
    default: "127.0.0.1",
    doc: "Address to listen on. Use 0.0.0.0 behind a load balancer.",
  },
  dataDir: {
    flag: "--data-dir <path>",
    env: "TESSERA_DATA_DIR",
    schema: z.string().min(1),
    default: "./data",
    doc: "Directory for the SQLite database and the generated master key.",
  },
  databaseUrl: {
    flag: "--database-url <url>",
    env: "TESSERA_DATABASE_URL",
    schema: z
      .string()
      .refine((v) => /^(sqlite:|postgres(ql)?:\/\/)/.test(v), "must start with sqlite: or postgres://"),
    default: undefined,
    doc: "`sqlite:<path>` (default `sqlite:<data-dir>/tessera.db`) or `postgres://user@host:port/db`; add `?schema=NAME` to use a PostgreSQL schema other than public.",
  },
  baseUrl: {
    flag: "--base-url <url>",
    env: "TESSERA_BASE_URL",
    schema: z
      .url({ protocol: /^https?$/, error: "must be an absolute http:// or https:// URL" })
      .refine((v) => {
        const u = new URL(v);
        return u.search === "" && u.hash === "";
      }, "must not contain a query or fragment")
      .transform((v) => v.replace(/\/+$/, "")),
    default: undefined,
    doc: "Public URL of the server as users and relying parties see it (default `http://<host>:<port>`). Cookies are marked Secure when it is https.",
  },
  redisUrl: {
    flag: "--redis-url <url>",
    env: "TESSERA_REDIS_URL",
    schema: z.string().refine((v) => /^rediss?:\/\//.test(v), "must start with redis:// or rediss://"),
    default: undefined,
    doc: "Optional Redis for rate-limit counters shared between nodes (in process memory otherwise).",
  },
  logLevel: {
    flag: "--log-level <level>",
    env: "TESSERA_LOG_LEVEL",
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    default: "info",
    doc: "Log level of the JSON logs written to standard output.",
  },
  trustProxy: {
    flag: "--trust-proxy <hops>",
    env: "TESSERA_TRUST_PROXY",
    schema: z.coerce.number().int().min(0).max(10),
    default: 0,
    doc: "Number of reverse proxies in front of the server whose X-Forwarded-For is trusted for the client IP.",
  },
  rateLimitMax: {
    flag: "--rate-limit-max <number>",
    env: "TESSERA_RATE_LIMIT_MAX",
    schema: z.coerce.number().int().min(1),
    default: 600,
    doc: "Requests one client IP may make per window before getting 429.",
  },
  rateLimitWindow: {
    flag: "--rate-limit-window <seconds>",
    env: "TESSERA_RATE_LIMIT_WINDOW",
    schema: z.coerce.number().int().min(1),
    default: 60,
    doc: "Length of the rate-limit window in seconds.",
  },
  databasePoolSize: {
    flag: "--database-pool-size <number>",
    env: "TESSERA_DATABASE_POOL_SIZE",
    schema: z.coerce.number().int().min(1).max(200),
    default: undefined,
    doc: "PostgreSQL connections per node (by default twice the machine's cores plus one).",
  },
  overloadEventLoopDelay: {
    flag: "--overload-event-loop-delay <ms>",
    env: "TESSERA_OVERLOAD_EVENT_LOOP_DELAY",
    schema: z.coerce.number().int().min(0).max(60_000),
    default: 200,
    doc: "Answer new requests 503 with Retry-After while the event loop runs this late on average (milliseconds, over a quarter of a second): an overloaded node says so at once instead of letting requests time out. 0 turns it off. Health, readiness and metrics are always answered.",
  },
  overloadHashingWait: {
    flag: "--overload-hashing-wait <ms>",
    env: "TESSERA_OVERLOAD_HASHING_WAIT",
    schema: z.coerce.number().int().min(0).max(60_000),
    default: 1000,
    doc: "Answer a request that must hash a password 503 with Retry-After when the password-hashing lanes' queue would keep it waiting longer than this (milliseconds). 0 turns it off.",
  },
  devMode: {
    flag: "--dev-mode <on|off>",
    env: "TESSERA_DEV_MODE",
    schema: z
      .union([z.boolean(), z.enum(["on", "off", "true", "false", "1", "0"])])
      .transform((v) => v === true || v === "on" || v === "true" || v === "1"),
    default: undefined,
    doc: "Development mode: every page says so, and sent messages (with their codes) are listed at /t/<tenant>/dev/outbox. On with `start --demo` unless set off; off otherwise.",
  },
  oidcPrivateNetwork: {
    flag: "--oidc-private-network <on|off>",
    env: "TESSERA_OIDC_PRIVATE_NETWORK",
    schema: z
      .union([z.boolean(), z.enum(["on", "off", "true", "false", "1", "0"])])
      .transform((v) => v === true || v === "on" || v === "true" || v === "1"),
    default: undefined,
    doc: "Let the OpenID providers call relying parties at private and loopback addresses (back-channel logout): for intranets and development. Off unless set, or in development mode, against server-side request forgery.",
  },
  shutdownDrain: {
    flag: "--shutdown-drain <seconds>",
    env: "TESSERA_SHUTDOWN_DRAIN",
    schema: z.coerce.number().min(0).max(300),
    default: 0,
    doc: "On SIGTERM, answer /readyz 503 for this many seconds while still serving, before closing: time for the load balancer's health checks to take the node out of rotation (more than their interval × failures). Requests in hand are always finished.",
  },
  outboxMaxRetryDelay: {
    flag: "--outbox-max-retry-delay <seconds>",
    env: "TESSERA_OUTBOX_MAX_RETRY_DELAY",
    schema: z.coerce.number().int().min(1).max(86_400),
    default: 300,
    doc: "Longest wait between two attempts at an e-mail or SMS that could not be sent (the waits double from 5 seconds up to this): how soon after an SMTP or SMS gateway outage ends every queued message has gone out.",
  },
  smtpUrl: {
    flag: "--smtp-url <url>",
    env: "TESSERA_SMTP_URL",
    schema: z.string().refine((v) => /^smtps?:\/\//.test(v), "must start with smtp:// (STARTTLS when offered) or smtps:// (TLS)"),
    default: undefined,
    doc: "SMTP server for e-mail, e.g. `smtps://user:password@mail.example.org:465` or `smtp://mail.example.org:587?requireTLS=true`. Without it e-mails wait in the outbox (or, in development mode, only show in the dev outbox).",
  },
  mailFrom: {
    flag: "--mail-from <address>",
    env: "TESSERA_MAIL_FROM",
    schema: z.string().min(3),
    default: "Tessera <no-reply@localhost>",
    doc: "Sender of e-mails.",
  },
  smsGatewayUrl: {
    flag: "--sms-gateway-url <url>",
    env: "TESSERA_SMS_GATEWAY_URL",
    schema: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
    default: undefined,
    doc: "HTTP endpoint of the SMS gateway. Without it SMS wait in the outbox (or, in development mode, only show in the dev outbox).",
  },
  smsGatewayMethod: {
    flag: "--sms-gateway-method <method>",
    env: "TESSERA_SMS_GATEWAY_METHOD",
    schema: z.enum(["POST", "PUT", "GET"]),
    default: "POST",
    doc: "HTTP method for the SMS gateway (with GET the body template becomes the query string).",
  },
  smsGatewayFormat: {
    flag: "--sms-gateway-format <json|form>",
    env: "TESSERA_SMS_GATEWAY_FORMAT",
    schema: z.enum(["json", "form"]),
    default: "json",
    doc: "Body encoding for the SMS gateway: JSON, or an HTML form (`application/x-www-form-urlencoded`).",
  },
  smsGatewayBody: {
    flag: "--sms-gateway-body <template>",
    env: "TESSERA_SMS_GATEWAY_BODY",
    schema: z.string().min(1),
    default: undefined,
    doc: 'Body template with `{{to}}`, `{{text}}` and `{{from}}`, escaped for the format. Default `{"to":"{{to}}","from":"{{from}}","text":"{{text}}"}` (JSON) or `to={{to}}&from={{from}}&text={{text}}` (form).',
  },
  smsGatewayHeaders: {
    flag: "--sms-gateway-headers <json>",
    env: "TESSERA_SMS_GATEWAY_HEADERS",
    // A JSON string from a flag or the environment, an object from a config file.
    schema: z.preprocess(
      (v) => {
        if (typeof v !== "string") return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      },
      z.record(z.string(), z.string(), { error: "must be a JSON object of header names and values" }),
    ),
    default: {},
    doc: 'Extra request headers for the SMS gateway, e.g. `{"Authorization": "Bearer …"}` (a JSON object; an object in a config file).',
  },
  smsSender: {
    flag: "--sms-sender <name>",
    env: "TESSERA_SMS_SENDER",
    schema: z.string().min(1).max(11),
    default: "Tessera",
    doc: "Sender name or number passed to the SMS gateway as `{{from}}` (alphanumeric senders have at most 11 characters).",
  },
  masterKey: {
    // No flag: a command line is visible to every local user through the process list.
    flag: undefined,
    env: "TESSERA_MASTER_KEY",
    schema: z
      .string()
      .refine((v) => Buffer.from(v, "base64").length === 32, "must be 32 bytes encoded in base64"),
    default: undefined,
    doc: "Key (32 bytes, base64) that encrypts secrets at rest. If unset, generated on first start into `<data-dir>/master.key` (mode 0600). Every node of one database needs the same key.",
  },
  mtlsPort: {
    flag: "--mtls-port <number>",
    env: "TESSERA_MTLS_PORT",
    schema: z.coerce.number().int().min(0).max(65535),
    default: undefined,
    doc: "Port of the mutual-TLS endpoint that asks for a client certificate (identification by CNS card). Unset, there is none.",
  },
  mtlsCert: {
    flag: "--mtls-cert <file>",
    env: "TESSERA_MTLS_CERT",
    schema: z.string().min(1),
    default: undefined,
    doc: "The mutual-TLS endpoint's server certificate (PEM, with its chain). Unset in development mode, a self-signed one is made at start.",
  },
  mtlsKey: {
    flag: "--mtls-key <file>",
    env: "TESSERA_MTLS_KEY",
    schema: z.string().min(1),
    default: undefined,
    doc: "The private key of `mtlsCert` (PEM).",
  },
  adminToken: {
    // No flag, as for the master key: it is a credential.
    flag: undefined,
    env: "TESSERA_ADMIN_TOKEN",
    schema: z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -base64 32`)"),
    default: undefined,
    doc: "Bearer token of the admin API (`/admin/api/…`). Unset, the admin API is off.",
  },
} as const satisfies Record<string, SettingDefinition>;

interface SettingDefinition {
  flag: string | undefined;
  env: string;
  schema: z.ZodType;
  default: unknown;
  doc: string;
}

type Definitions = typeof settingDefinitions;
export type SettingName = keyof Definitions;
type Resolved<K extends SettingName> = Definitions[K]["default"] extends undefined
  ? z.output<Definitions[K]["schema"]> | undefined
  : z.output<Definitions[K]["schema"]>;

/** Validated settings; derived defaults (database URL) are filled in. */
export type Settings = { [K in SettingName]: Resolved<K> } & {
  databaseUrl: string;
  /** Path of the config file that was read, if any. */
  configFile: string | undefined;
};

export const settingNames = Object.keys(settingDefinitions) as SettingName[];

/** The setting `config` is the file itself, so it lives outside the table. */
export const configFileSetting = {
  flag: "--config <file>",
  env: "TESSERA_CONFIG",
  doc: "A JSON or YAML file with any of the settings above under their config key.",
} as const;

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

export interface SettingsSources {
  /** Parsed command-line flags, keyed by setting name (plus `config`). */
  flags: Partial<Record<SettingName | "config", unknown>>;
  env: NodeJS.ProcessEnv;
  /** Directory that relative paths are resolved against. */
  cwd: string;
}

/**
 * Resolves settings from flags, environment and config file. Throws SettingsError naming the
 * setting, where the value came from and why it is wrong; the CLI turns that into exit code 2.
 */
export function loadSettings({ flags, env, cwd }: SettingsSources): Settings {
  const configPath = (flags.config as string | undefined) ?? nonEmpty(env[configFileSetting.env]);
  const file = configPath ? readConfigFile(path.resolve(cwd, configPath)) : {};

  const raw: Record<string, { value: unknown; source: string }> = {};
  for (const name of settingNames) {
    const def: SettingDefinition = settingDefinitions[name];
    const flagValue = flags[name];
    const envValue = nonEmpty(env[def.env]);
    if (flagValue !== undefined && def.flag) raw[name] = { value: flagValue, source: def.flag.split(" ")[0]! };
    else if (envValue !== undefined) raw[name] = { value: envValue, source: def.env };
    else if (file[name] !== undefined) raw[name] = { value: file[name], source: `${configPath} key "${name}"` };
  }

  const out: Record<string, unknown> = {};
  for (const name of settingNames) {
    const def: SettingDefinition = settingDefinitions[name];
    const given = raw[name];
    if (!given) {
      out[name] = def.default;
      continue;
    }
    const result = def.schema.safeParse(given.value);
    if (!result.success) {
      const reason = result.error.issues.map((i) => i.message).join("; ");
      // Secrets are never echoed: the master key, and URLs or headers that may carry credentials.
      const secret = ["masterKey", "smtpUrl", "smsGatewayHeaders", "redisUrl", "databaseUrl"].includes(name);
      const shown = secret ? "" : ` (got ${JSON.stringify(given.value)})`;
      throw new SettingsError(`invalid setting ${name} from ${given.source}: ${reason}${shown}`);
    }
    out[name] = result.data;
  }

  out.dataDir = path.resolve(cwd, out.dataDir as string);
  out.databaseUrl ??= `sqlite:${path.join(out.dataDir as string, "tessera.db")}`;
  out.configFile = configPath ? path.resolve(cwd, configPath) : undefined;
  return out as Settings;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new SettingsError(`invalid setting config: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  let parsed: unknown;
  try {
    parsed = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SettingsError(`invalid setting config: ${file} is not valid JSON or YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new SettingsError(`invalid setting config: ${file} must hold an object of settings`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(settingNames as string[]).includes(key)) {
      throw new SettingsError(`invalid setting config: ${file} has unknown key "${key}"`);
    }
  }
  return parsed as Record<string, unknown>;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/**
 * Base URL: the configured one, or derived from the address the server listens on. Loopback and
 * unspecified addresses become `localhost`: browsers refuse passkeys on IP addresses (a WebAuthn
 * relying party ID must be a domain) but allow them on localhost.
 */
export function resolveBaseUrl(settings: Pick<Settings, "baseUrl" | "host">, port: number): string {
  if (settings.baseUrl) return settings.baseUrl;
  const local = ["0.0.0.0", "::", "[::]", "127.0.0.1", "::1", "[::1]", "localhost"].includes(settings.host);
  const host = local ? "localhost" : settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return `http://${host}:${port}`;
}
