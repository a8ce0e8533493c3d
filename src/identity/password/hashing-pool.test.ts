import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { hashingPool } from "./hashing-pool.ts";
import { TesseraError } from "../../shared/errors.ts";
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

  it("refuse work that would wait too long for a lane (503, try again), not answer it as a wrong password", async () => {
    const h = await hashSecret("under load", CHEAP);
    const lanes = hashingPool.stats().lanes;
    const before = hashingPool.stats().refused;
    hashingPool.limitWait(1);
    try {
      // Many more at once than there are lanes: the first fill the lanes and queue, later ones
      // would wait several jobs' time.
      const outcomes = await Promise.allSettled(Array.from({ length: lanes * 6 }, () => verifySecret(h, "under load")));
      const refused = outcomes.filter((o) => o.status === "rejected").map((o) => (o).reason as TesseraError);
      const answered = outcomes.filter((o) => o.status === "fulfilled").map((o) => (o).value);
      expect(refused.length).toBeGreaterThan(0);
      expect(answered.length).toBeGreaterThanOrEqual(lanes);
      // Those that ran were right; none of the refused turned into "no match".
      expect(answered.every((v) => v === true)).toBe(true);
      for (const error of refused) {
        expect(error).toBeInstanceOf(TesseraError);
        expect(error).toMatchObject({ code: "service.overloaded", status: 503, params: { seconds: 1 } });
      }
      expect(hashingPool.stats().refused - before).toBe(refused.length);
    } finally {
      hashingPool.limitWait(0);
    }
    // The limit lifted, the same burst is all answered.
    const all = await Promise.all(Array.from({ length: lanes * 6 }, () => verifySecret(h, "under load")));
    expect(all.every((v) => v === true)).toBe(true);
  });
});
