import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.ts";
import { migrations } from "../../src/store/migrations/index.ts";

const ALL_MIGRATIONS = Object.keys(migrations("sqlite")).join(", ");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-"));
});

/** Runs the CLI in this process with a data dir of its own. */
async function tessera(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { TESSERA_DATA_DIR: dir, ...env },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

describe("tessera --help", () => {
  it.each([
    [[], ["start", "migrate", "tenant", "audit"]],
    [["start"], ["--demo", "--port <number>", "--database-url <url>", "TESSERA_PORT", "--config <file>"]],
    [["migrate"], ["--database-url <url>"]],
    [["tenant"], ["list", "show", "create"]],
    [["tenant", "create"], ["--name <name>", "--locale <locale...>", "--identifier <kind>", "--from-file <file>"]],
    [["tenant", "list"], ["--json"]],
    [["tenant", "show"], ["<id>"]],
    [["audit"], ["verify"]],
    [["audit", "verify"], ["--tenant <id>"]],
  ])("explains %j", async (command, mentions) => {
    const { code, stdout } = await tessera([...command, "--help"]);
    expect(code).toBe(0);
    for (const m of mentions) expect(stdout).toContain(m);
  });

  it("rejects unknown commands and options with exit code 2", async () => {
    expect((await tessera(["frobnicate"])).code).toBe(2);
    const unknown = await tessera(["migrate", "--colour"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--colour'");
  });
});

describe("settings errors", () => {
  it.each([
    [["migrate", "--port", "http"], {}, "invalid setting port from --port"],
    [["migrate"], { TESSERA_PORT: "99999" }, "invalid setting port from TESSERA_PORT"],
    [["migrate", "--database-url", "mysql://x"], {}, "invalid setting databaseUrl from --database-url"],
    [["tenant", "list", "--log-level", "loud"], {}, "invalid setting logLevel from --log-level"],
    [["audit", "verify", "--config", "/nonexistent.yaml"], {}, "invalid setting config: cannot read /nonexistent.yaml"],
  ])("%j %j exits 2 saying %s", async (args, env, message) => {
    const { code, stderr } = await tessera(args, env);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it("reads settings from a config file", async () => {
    const config = path.join(dir, "tessera.yaml");
    writeFileSync(config, `databaseUrl: sqlite:${path.join(dir, "elsewhere.db")}\n`);
    expect((await tessera(["migrate", "--config", config])).stdout).toContain(`applied: ${ALL_MIGRATIONS}`);
    expect((await tessera(["migrate"], { TESSERA_CONFIG: config })).stdout).toContain("up to date");
    expect((await tessera(["migrate"])).stdout).toContain(`applied: ${ALL_MIGRATIONS}`);
  });
});

describe("tessera migrate and tenant", () => {
  it("refuses to work on a database that was not migrated", async () => {
    const { code, stderr } = await tessera(["tenant", "list"]);
    expect(code).toBe(1);
    expect(stderr).toContain(`pending: ${ALL_MIGRATIONS}`);
    expect(stderr).toContain("run `tessera migrate` first");
  });

  it("creates, lists and shows tenants", async () => {
    expect((await tessera(["migrate"])).stdout).toBe(`applied: ${ALL_MIGRATIONS}\n`);
    expect((await tessera(["migrate"])).stdout).toBe("the database schema is up to date\n");

    const created = await tessera(["tenant", "create", "acme", "--name", "ACME ID", "--locale", "es", "en", "--identifier", "dni"]);
    expect(created).toMatchObject({ code: 0, stdout: "created tenant acme\n" });

    const shown = await tessera(["tenant", "show", "acme"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: "acme",
      displayName: "ACME ID",
      locales: ["es", "en"],
      defaultLocale: "es",
      policy: { identifier: "dni" },
    });

    const list = await tessera(["tenant", "list"]);
    expect(list.stdout).toBe("ID    LOCALES  IDENTIFIER  NAME\nacme  es,en    dni         ACME ID\n");
    expect(JSON.parse((await tessera(["tenant", "list", "--json"])).stdout)).toHaveLength(1);
  });

  it("creates a tenant from a YAML document, flags taking precedence", async () => {
    await tessera(["migrate"]);
    const doc = path.join(dir, "tenant.yaml");
    writeFileSync(
      doc,
      "displayName: From File\nlocales: [it]\nbranding:\n  primaryColor: '#aa0000'\n  tagline: { it: Ciao }\n",
    );
    const created = await tessera(["tenant", "create", "filed", "--from-file", doc, "--name", "Flag Name", "--json"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      id: "filed",
      displayName: "Flag Name",
      branding: { primaryColor: "#aa0000", tagline: { it: "Ciao" } },
    });
  });

  it("reports bad tenant input with exit 2 and duplicates and unknown tenants with exit 1", async () => {
    await tessera(["migrate"]);
    const bad = await tessera(["tenant", "create", "Bad_Id", "--name", "X", "--locale", "en"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("id: must be 2–32 lower-case letters");
    const noName = await tessera(["tenant", "create", "noname", "--locale", "en"]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("displayName");
    const badLocale = await tessera(["tenant", "create", "x1", "--name", "X", "--locale", "fr"]);
    expect(badLocale.code).toBe(2);

    await tessera(["tenant", "create", "acme", "--name", "ACME", "--locale", "en"]);
    const dup = await tessera(["tenant", "create", "acme", "--name", "ACME", "--locale", "en"]);
    expect(dup).toMatchObject({ code: 1, stderr: "tessera: tenant acme already exists\n" });
    const missing = await tessera(["tenant", "show", "ghost"]);
    expect(missing).toMatchObject({ code: 1, stderr: "tessera: no tenant ghost\n" });
  });
});

describe("tessera audit verify", () => {
  async function tenants() {
    await tessera(["migrate"]);
    for (const id of ["alpha", "beta"]) await tessera(["tenant", "create", id, "--name", id, "--locale", "en"]);
    return new Database(path.join(dir, "tessera.db"));
  }

  it("exits 0 when every chain is intact", async () => {
    (await tenants()).close();
    const { code, stdout } = await tessera(["audit", "verify"]);
    expect(code).toBe(0);
    expect(stdout).toBe("alpha: intact, 1 entry\nbeta: intact, 1 entry\n");
    expect((await tessera(["audit", "verify", "--tenant", "beta"])).stdout).toBe("beta: intact, 1 entry\n");
  });

  it("exits 1 naming an edited entry", async () => {
    const db = await tenants();
    db.exec("drop trigger audit_entries_no_update");
    db.prepare("update audit_entries set data = '{}' where tenant_id = 'beta' and seq = 1").run();
    db.close();
    const { code, stdout } = await tessera(["audit", "verify"]);
    expect(code).toBe(1);
    expect(stdout).toContain("alpha: intact, 1 entry");
    expect(stdout).toContain("beta: BROKEN at entry 1: entry 1 does not match its hash (edited)");
  });

  it("exits 1 naming a deleted entry", async () => {
    const db = await tenants();
    db.exec("drop trigger audit_entries_no_delete");
    db.prepare("delete from audit_entries where tenant_id = 'alpha'").run();
    db.close();
    const { code, stdout } = await tessera(["audit", "verify", "--tenant", "alpha"]);
    expect(code).toBe(1);
    expect(stdout).toBe("alpha: BROKEN at entry 1: entry 1 is missing (deleted)\n");
  });
});
