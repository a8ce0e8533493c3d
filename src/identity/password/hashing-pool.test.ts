import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { hashingPool } from "./hashing-pool.ts";
import { hashSecret, verifySecret } from "./hashing.ts";

const CHEAP = { memoryKiB: 8192, iterations: 1, parallelism: 1 };

describe("the password-hashing lanes", () => {
  it("run many hashes and verifications at once, each answered with its own result, and count them", async () => {
    const before = hashingPool.stats();
    const secrets = Array.from({ length: 12 }, (_, i) => `secret-${i}`);
    const hashes = await Promise.all(secrets.map((s) => hashSecret(s, CHEAP)));
    expect(new Set(hashes).size).toBe(12);
    const right = await Promise.all(hashes.map((h, i) => verifySecret(h, secrets[i]!)));
    const crossed = await Promise.all(hashes.map((h, i) => verifySecret(h, secrets[(i + 1) % 12]!)));
    expect(right).toEqual(Array(12).fill(true));
    expect(crossed).toEqual(Array(12).fill(false));
    const after = hashingPool.stats();
    expect(after.lanes).toBe(Math.min(8, availableParallelism()));
    expect(after.hashes - before.hashes).toBe(12);
    expect(after.verifications - before.verifications).toBe(24);
    expect(after.busySeconds).toBeGreaterThan(before.busySeconds);
    expect(after.queued).toBe(0);
  });

  it("answer a malformed stored hash with no match, and go on working", async () => {
    expect(await verifySecret("$argon2id$v=19$m=8192,t=1,p=1$bm90LWEtaGFzaA", "x")).toBe(false);
    expect(await verifySecret("not a hash at all", "x")).toBe(false);
    const h = await hashSecret("still here", CHEAP);
    expect(await verifySecret(h, "still here")).toBe(true);
  });
});
