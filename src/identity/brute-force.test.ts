import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { dialects, freshStore } from "../../test/helpers/stores.ts";
import { databaseAttemptStore, fallingBackAttemptStore, redisAttemptStore } from "../store/attempts.ts";
import { connectRedis, redisOrFallback } from "../store/redis.ts";
import { LockoutPolicy } from "../tenants/policy.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded, beginAttempt, peekAttempt } from "./brute-force.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const policy = LockoutPolicy.parse({}); // 5 failures → 15 min lock; delays 1, 2, 4, 8 s; 100 failures per IP per 15 min

const redisEnabled = Boolean(process.env.CI || process.env.TESSERA_TEST_REDIS);
const redisUrl = process.env.TESSERA_TEST_REDIS?.startsWith("redis") ? process.env.TESSERA_TEST_REDIS : "redis://127.0.0.1:6379";
const redis = redisEnabled ? new Redis(redisUrl) : undefined;
afterAll(async () => {
  await redis?.quit();
});

type Backend = () => Promise<{ store: AttemptStore; close: () => Promise<void> }>;
const backends: [string, Backend][] = [
  ...dialects.map((d): [string, Backend] => [
    d,
    async () => {
      const s = await freshStore(d);
      return { store: databaseAttemptStore(s.repos), close: () => s.close() };
    },
  ]),
  // Redis out of reach (nothing listens on port 1): the protection must hold on the database.
  [
    "redis down, sqlite standing in",
    async () => {
      const s = await freshStore("sqlite");
      const down = connectRedis("redis://127.0.0.1:1", () => {});
      const store = fallingBackAttemptStore(redisAttemptStore(down), databaseAttemptStore(s.repos), redisOrFallback(down, () => {}));
      return { store, close: async () => (down.disconnect(), s.close()) };
    },
  ],
  ...(redis
    ? [["redis", async () => ({ store: redisAttemptStore(redis, `test:${randomBytes(6).toString("hex")}:`), close: async () => {} })] as [string, Backend]]
    : []),
];

describe.each(backends)("brute-force protection on %s", (_name, open) => {
  const subject = (identifier = "mario@example.it", ip = "192.0.2.10") => ({ tenantId: "national", identifier, ip });

  /** One wrong guess, as a sign-in step makes it: book, check (wrong), report. */
  async function wrongGuess(store: AttemptStore, now: number, who = subject(), p = policy) {
    const gate = await beginAttempt(store, p, who, now);
    return gate.allowed ? attemptFailed(store, p, who, now) : gate;
  }

  it("makes each retry after a failure wait longer: 1, 2, 4, 8 seconds", async () => {
    const { store, close } = await open();
    let now = Date.UTC(2026, 0, 1);
    for (const wait of [1, 2, 4, 8]) {
      expect(await wrongGuess(store, now)).toMatchObject({ allowed: false, reason: "account.delayed", params: { seconds: wait } });
      expect(await beginAttempt(store, policy, subject(), now + wait * SECOND - 1)).toMatchObject({ reason: "account.delayed" });
      now += wait * SECOND;
      expect(await peekAttempt(store, policy, subject(), now)).toEqual({ allowed: true });
    }
    await close();
  });

  it("locks after the 5th consecutive failure, for 15 minutes", async () => {
    const { store, close } = await open();
    let now = Date.UTC(2026, 0, 1);
    for (let i = 1; i <= 4; i++) {
      expect(await wrongGuess(store, now)).toMatchObject({ reason: "account.delayed" });
      now += 10 * SECOND;
    }
    expect(await wrongGuess(store, now)).toMatchObject({ allowed: false, reason: "account.locked", retryAfterSeconds: 900, params: { minutes: 15 } });
    expect(await beginAttempt(store, policy, subject(), now + 15 * MINUTE - SECOND)).toMatchObject({ reason: "account.locked", retryAfterSeconds: 1 });
    expect(await peekAttempt(store, policy, subject(), now + 15 * MINUTE)).toEqual({ allowed: true });
    // After the lock, counting starts again from one.
    now += 15 * MINUTE;
    expect(await wrongGuess(store, now)).toMatchObject({ reason: "account.delayed", params: { seconds: 1 } });
    await close();
  });

  it("forgets failures after a success", async () => {
    const { store, close } = await open();
    let now = Date.UTC(2026, 0, 1);
    for (let i = 1; i <= 4; i++) {
      await wrongGuess(store, now);
      now += 10 * SECOND;
    }
    expect(await beginAttempt(store, policy, subject(), now)).toEqual({ allowed: true });
    await attemptSucceeded(store, subject(), now);
    expect(await wrongGuess(store, now)).toMatchObject({ reason: "account.delayed", params: { seconds: 1 } });
    await close();
  });

  it("lets at most 5 of 50 parallel guesses through, however they interleave", async () => {
    const { store, close } = await open();
    const now = Date.UTC(2026, 0, 1);
    const gates = await Promise.all(Array.from({ length: 50 }, () => beginAttempt(store, policy, subject(), now)));
    const through = gates.filter((g) => g.allowed).length;
    expect(through).toBeGreaterThanOrEqual(1);
    expect(through).toBeLessThanOrEqual(5);
    // Whether the later guesses found it delayed or locked depends on the interleaving; shut it is.
    expect(await peekAttempt(store, policy, subject(), now + SECOND)).toMatchObject({ allowed: false });
    await close();
  });

  it("locks identifiers that no account has exactly as those that exist", async () => {
    const { store, close } = await open();
    const now = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 5; i++) await wrongGuess(store, now + i * 20 * SECOND, subject("nobody@example.it"));
    expect(await peekAttempt(store, policy, subject("nobody@example.it"), now + 2 * MINUTE)).toMatchObject({ reason: "account.locked" });
    expect(await peekAttempt(store, policy, subject("mario@example.it"), now + 2 * MINUTE)).toEqual({ allowed: true });
    await close();
  });

  it("blocks an address after its failures in the window, counting failures only", async () => {
    const { store, close } = await open();
    const strict = LockoutPolicy.parse({ ipMaxFailures: 3, ipWindowMinutes: 15, delayBaseSeconds: 0 });
    const now = Date.UTC(2026, 0, 1);
    // Successful sign-ins of other users in the same office use up nothing.
    for (let i = 0; i < 10; i++) {
      expect(await beginAttempt(store, strict, subject(`user${i}@example.it`), now)).toEqual({ allowed: true });
      await attemptSucceeded(store, subject(`user${i}@example.it`), now);
    }
    await wrongGuess(store, now, subject("a@example.it"), strict);
    await wrongGuess(store, now + SECOND, subject("b@example.it"), strict);
    expect(await peekAttempt(store, strict, subject("c@example.it"), now + 2 * SECOND)).toEqual({ allowed: true });
    await wrongGuess(store, now + 2 * SECOND, subject("c@example.it"), strict);
    expect(await beginAttempt(store, strict, subject("d@example.it"), now + 3 * SECOND)).toMatchObject({
      allowed: false,
      reason: "account.ip_blocked",
      params: { minutes: 15 },
    });
    expect(await peekAttempt(store, strict, subject("d@example.it", "198.51.100.7"), now + 3 * SECOND)).toEqual({ allowed: true });
    expect(await peekAttempt(store, strict, subject("d@example.it"), now + 15 * MINUTE)).toEqual({ allowed: true });
    await close();
  });

  it("counts every failure when several nodes record at once", async () => {
    const { store, close } = await open();
    const now = Date.UTC(2026, 0, 1);
    await Promise.all(Array.from({ length: 20 }, () => store.recordFailure("race", now, MINUTE)));
    expect((await store.counters(["race"]))[0]?.failures).toBe(20);
    await store.giveBack({ forgive: ["race"] }, now);
    expect((await store.counters(["race"]))[0]?.failures).toBe(19);
    await close();
  });
});
