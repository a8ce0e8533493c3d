import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings, resolveBaseUrl, SettingsError, settingDefinitions } from "./settings.ts";

const cwd = "/srv/tessera";
const load = (flags: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
  loadSettings({ flags, env, cwd });

function configFile(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-settings-"));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("settings", () => {
  it("has the documented defaults", () => {
    const s = load();
    expect(s.port).toBe(8080);
    expect(s.host).toBe("127.0.0.1");
    expect(s.dataDir).toBe("/srv/tessera/data");
    expect(s.databaseUrl).toBe("sqlite:/srv/tessera/data/tessera.db");
    expect(s.baseUrl).toBeUndefined();
    expect(s.redisUrl).toBeUndefined();
  });

  it("derives the database URL from the data dir", () => {
    expect(load({ dataDir: "/var/lib/tessera" }).databaseUrl).toBe("sqlite:/var/lib/tessera/tessera.db");
  });

  it("takes flags over environment over config file", () => {
    const file = configFile("c.yaml", "port: 7000\nhost: 10.0.0.1\nlogLevel: warn\n");
    const env = { TESSERA_CONFIG: file, TESSERA_PORT: "7001", TESSERA_HOST: "10.0.0.2" };
    const s = load({ port: "7002" }, env);
    expect(s.port).toBe(7002);
    expect(s.host).toBe("10.0.0.2");
    expect(s.logLevel).toBe("warn");
    expect(s.configFile).toBe(file);
  });

  it("reads JSON config files and ignores empty environment variables", () => {
    const file = configFile("c.json", JSON.stringify({ databaseUrl: "postgres://db.example/tessera" }));
    const s = load({ config: file }, { TESSERA_PORT: "" });
    expect(s.databaseUrl).toBe("postgres://db.example/tessera");
    expect(s.port).toBe(8080);
  });

  it.each([
    [{ port: "http" }, {}, /invalid setting port from --port: .*\(got "http"\)/],
    [{ port: "65536" }, {}, /invalid setting port from --port/],
    [{}, { TESSERA_PORT: "-1" }, /invalid setting port from TESSERA_PORT/],
    [{}, { TESSERA_DATABASE_URL: "mysql://x" }, /databaseUrl from TESSERA_DATABASE_URL: must start with sqlite: or postgres:\/\//],
    [{ baseUrl: "ftp://example.org" }, {}, /baseUrl from --base-url: must be an absolute http/],
    [{ baseUrl: "https://example.org/?a=1" }, {}, /baseUrl .*must not contain a query/],
    [{}, { TESSERA_REDIS_URL: "localhost:6379" }, /redisUrl from TESSERA_REDIS_URL/],
    [{ logLevel: "loud" }, {}, /logLevel from --log-level/],
  ])("rejects %j %j naming the setting and its source", (flags, env, message) => {
    expect(() => load(flags, env)).toThrow(SettingsError);
    expect(() => load(flags, env)).toThrow(message);
  });

  it("rejects a malformed master key without echoing it", () => {
    const secret = "bm90LTMyLWJ5dGVz";
    try {
      load({}, { TESSERA_MASTER_KEY: secret });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/invalid setting masterKey from TESSERA_MASTER_KEY: must be 32 bytes/);
      expect((err as Error).message).not.toContain(secret);
    }
  });

  it("has no flag for the master key: command lines are visible to other users", () => {
    expect(settingDefinitions.masterKey.flag).toBeUndefined();
  });

  it("reads development mode, SMTP and SMS gateway settings", () => {
    expect(load().devMode).toBeUndefined();
    for (const on of ["on", "true", "1"]) expect(load({ devMode: on }).devMode).toBe(true);
    for (const off of ["off", "false", "0"]) expect(load({}, { TESSERA_DEV_MODE: off }).devMode).toBe(false);
    const s = load({}, {
      TESSERA_SMTP_URL: "smtps://u:p@mail.example.org:465",
      TESSERA_SMS_GATEWAY_URL: "https://sms.example.net/send",
      TESSERA_SMS_GATEWAY_HEADERS: '{"Authorization":"Bearer k"}',
      TESSERA_SMS_GATEWAY_FORMAT: "form",
    });
    expect(s).toMatchObject({
      smtpUrl: "smtps://u:p@mail.example.org:465",
      smsGatewayUrl: "https://sms.example.net/send",
      smsGatewayHeaders: { Authorization: "Bearer k" },
      smsGatewayFormat: "form",
      smsGatewayMethod: "POST",
      smsSender: "Tessera",
    });
    const file = configFile("c.yaml", "smsGatewayHeaders:\n  X-Api-Key: abc\n");
    expect(load({ config: file }).smsGatewayHeaders).toEqual({ "X-Api-Key": "abc" });
  });

  it("rejects bad messaging settings without echoing credentials", () => {
    expect(() => load({ devMode: "maybe" })).toThrow(/invalid setting devMode from --dev-mode/);
    expect(() => load({}, { TESSERA_SMS_GATEWAY_HEADERS: "Bearer secret-key" })).toThrow(/smsGatewayHeaders .*must be a JSON object/);
    expect(() => load({}, { TESSERA_SMS_GATEWAY_HEADERS: "Bearer secret-key" })).not.toThrow(/secret-key/);
    expect(() => load({}, { TESSERA_SMTP_URL: "mail://u:pw@host" })).toThrow(/smtpUrl from TESSERA_SMTP_URL: must start with smtp:\/\//);
    expect(() => load({}, { TESSERA_SMTP_URL: "mail://u:pw@host" })).not.toThrow(/pw@/);
    expect(() => load({ smsSender: "MuchTooLongSender" })).toThrow(/smsSender/);
  });

  it("rejects unknown keys and unreadable or malformed config files", () => {
    expect(() => load({ config: configFile("c.yaml", "prot: 1\n") })).toThrow(/unknown key "prot"/);
    expect(() => load({ config: configFile("c.json", "{nope") })).toThrow(/not valid JSON or YAML/);
    expect(() => load({ config: configFile("c.yaml", "- 1\n- 2\n") })).toThrow(/must hold an object/);
    expect(() => load({ config: "/nonexistent/tessera.yaml" })).toThrow(/cannot read \/nonexistent\/tessera.yaml \(ENOENT\)/);
    expect(() => load({ config: configFile("c.yaml", "port: 99999\n") })).toThrow(/invalid setting port from .*c.yaml key "port"/);
  });

  it("strips the trailing slash of the base URL and derives one from the listening address", () => {
    expect(load({ baseUrl: "https://id.example.org/" }).baseUrl).toBe("https://id.example.org");
    expect(resolveBaseUrl({ baseUrl: undefined, host: "127.0.0.1" }, 8080)).toBe("http://localhost:8080");
    expect(resolveBaseUrl({ baseUrl: undefined, host: "0.0.0.0" }, 80)).toBe("http://localhost:80");
    expect(resolveBaseUrl({ baseUrl: undefined, host: "::1" }, 80)).toBe("http://localhost:80");
    expect(resolveBaseUrl({ baseUrl: undefined, host: "192.0.2.7" }, 80)).toBe("http://192.0.2.7:80");
    expect(resolveBaseUrl({ baseUrl: undefined, host: "2001:db8::7" }, 80)).toBe("http://[2001:db8::7]:80");
    expect(resolveBaseUrl({ baseUrl: "https://id.example.org", host: "0.0.0.0" }, 80)).toBe("https://id.example.org");
  });
});
