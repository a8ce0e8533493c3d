import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { connectRedis, type FallbackEvent, redisOrFallback } from "./redis.ts";

const redisUrl = process.env.TESSERA_TEST_REDIS?.startsWith("redis") ? process.env.TESSERA_TEST_REDIS : "redis://127.0.0.1:6379";
const redisEnabled = Boolean(process.env.CI || process.env.TESSERA_TEST_REDIS);

const clients: Redis[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

describe("redisOrFallback", () => {
  it("uses the fallback at once while Redis cannot be reached, and says so once", async () => {
    const redis = connectRedis("redis://127.0.0.1:1", () => {});
    clients.push(redis);
    const events: FallbackEvent[] = [];
    const run = redisOrFallback(redis, (e) => events.push(e));
    const shared = async () => "shared";
    expect(await run(shared, async () => "local")).toBe("local");
    expect(await run(shared, async () => "local")).toBe("local");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "fell_back" });
  });

  it.skipIf(!redisEnabled)("uses Redis while it answers, the fallback when a command fails, and says when it is back", async () => {
    const redis = new Redis(redisUrl);
    clients.push(redis);
    await redis.ping();
    const events: FallbackEvent[] = [];
    const run = redisOrFallback(redis, (e) => events.push(e));
    expect(await run(async () => redis.ping(), async () => "local")).toBe("PONG");
    expect(events).toEqual([]);
    // A script error is a failed command on a live connection.
    expect(await run(async () => redis.eval("return redis.call('nosuchcommand')", 0), async () => "local")).toBe("local");
    expect(await run(async () => redis.ping(), async () => "local")).toBe("PONG");
    expect(events.map((e) => e.kind)).toEqual(["fell_back", "recovered"]);
  });
});
