import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadMasterKey, MasterKeyError, masterKeyCheck } from "./master-key.ts";

const tempDir = () => mkdtempSync(path.join(tmpdir(), "tessera-key-"));

describe("master key", () => {
  it("is generated once into the data dir with mode 0600, then reused", () => {
    const dir = path.join(tempDir(), "data");
    const first = loadMasterKey(undefined, dir);
    expect(first.source).toBe("generated");
    expect(first.key).toHaveLength(32);
    expect(statSync(path.join(dir, "master.key")).mode & 0o777).toBe(0o600);
    const second = loadMasterKey(undefined, dir);
    expect(second.source).toBe("file");
    expect(second.key.equals(first.key)).toBe(true);
  });

  it("comes from the environment when given, and then no file is written", () => {
    const dir = tempDir();
    const key = randomBytes(32);
    const loaded = loadMasterKey(key.toString("base64"), dir);
    expect(loaded.source).toBe("environment");
    expect(loaded.key.equals(key)).toBe(true);
    expect(() => statSync(path.join(dir, "master.key"))).toThrow();
  });

  it("refuses a key file other users can read, or one that is not a key", () => {
    const dir = tempDir();
    loadMasterKey(undefined, dir);
    chmodSync(path.join(dir, "master.key"), 0o644);
    expect(() => loadMasterKey(undefined, dir)).toThrow(MasterKeyError);
    expect(() => loadMasterKey(undefined, dir)).toThrow(/mode 644.*chmod 600/);

    writeFileSync(path.join(dir, "master.key"), "short\n", { mode: 0o600 });
    chmodSync(path.join(dir, "master.key"), 0o600);
    expect(() => loadMasterKey(undefined, dir)).toThrow(/does not hold 32 bytes/);
  });

  it("has a check value that identifies the key without revealing it", () => {
    const dir = tempDir();
    const { key } = loadMasterKey(undefined, dir);
    const check = masterKeyCheck(key);
    expect(check).toBe(masterKeyCheck(Buffer.from(key)));
    expect(check).not.toBe(masterKeyCheck(randomBytes(32)));
    expect(readFileSync(path.join(dir, "master.key"), "utf8")).not.toContain(check);
  });
});
