import type { Redis } from "ioredis";
import type { AttemptCounter, AttemptStore } from "../identity/brute-force.ts";
import type { Repos } from "./repos/index.ts";
import type { RedisOrFallback } from "./redis.ts";

/** Attempt counters in the database (the default): nothing else to run, shared by all nodes. */
export function databaseAttemptStore(repos: Repos): AttemptStore {
  const toCounter = (row: { failures: number; window_started_at: number; last_failure_at: number; locked_until: number | null }) => ({
    failures: row.failures,
    windowStartedAt: row.window_started_at,
    lastFailureAt: row.last_failure_at,
    lockedUntil: row.locked_until,
  });
  return {
    async counters(keys) {
      const rows = await repos.throttles.get(keys);
      return keys.map((key) => {
        const row = rows.find((r) => r.key === key);
        return row && toCounter(row);
      });
    },
    async recordFailure(key, now, windowMs) {
      return toCounter(await repos.throttles.recordFailure(key, now, now - windowMs));
    },
    lock: (key, until) => repos.throttles.lock(key, until),
    giveBack: (change, now) => repos.throttles.giveBack(change, now),
  };
}

/**
 * The same counters in Redis, for deployments that have it: hashes that expire on their own.
 * The failure count is updated by a script, so concurrent nodes never lose an increment.
 */
const RECORD_FAILURE = `
local h = redis.call('HMGET', KEYS[1], 'failures', 'window_started_at', 'locked_until')
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local failures = tonumber(h[1]) or 0
local started = tonumber(h[2]) or now
local lockedUntil = tonumber(h[3])
if lockedUntil and lockedUntil <= now then
  lockedUntil = nil
  failures = 0
  redis.call('HDEL', KEYS[1], 'locked_until')
end
if failures == 0 or started < now - window then
  failures = 0
  started = now
end
failures = failures + 1
redis.call('HSET', KEYS[1], 'failures', failures, 'window_started_at', started, 'last_failure_at', now)
if redis.call('PTTL', KEYS[1]) < window then redis.call('PEXPIRE', KEYS[1], window) end
return {failures, started, now, lockedUntil and tostring(lockedUntil) or ''}
`;

// Sets the lock and makes the key outlive it (PEXPIREAT GT would need Redis 7).
const LOCK = `
redis.call('HSET', KEYS[1], 'locked_until', ARGV[1])
local ttl = tonumber(ARGV[1]) + 60000 - tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
`;

// KEYS: the counters to forgive one failure each; ARGV[1]: the one to clear, or ''.
const GIVE_BACK = `
for _, key in ipairs(KEYS) do
  local f = tonumber(redis.call('HGET', key, 'failures'))
  if f and f > 0 then redis.call('HINCRBY', key, 'failures', -1) end
end
if ARGV[1] ~= '' then redis.call('DEL', ARGV[1]) end
`;

export function redisAttemptStore(redis: Redis, prefix = "tessera:attempts:"): AttemptStore {
  return {
    async counters(keys) {
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.hgetall(prefix + key);
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, reply]) => {
        if (err) throw err;
        const h = reply as Record<string, string>;
        if (!h.failures) return undefined;
        return {
          failures: Number(h.failures),
          windowStartedAt: Number(h.window_started_at),
          lastFailureAt: Number(h.last_failure_at),
          lockedUntil: h.locked_until ? Number(h.locked_until) : null,
        } satisfies AttemptCounter;
      });
    },
    async recordFailure(key, now, windowMs) {
      const [failures, started, last, locked] = (await redis.eval(RECORD_FAILURE, 1, prefix + key, now, windowMs)) as [
        number,
        number,
        number,
        string,
      ];
      return { failures, windowStartedAt: started, lastFailureAt: last, lockedUntil: locked ? Number(locked) : null };
    },
    async lock(key, until, now) {
      await redis.eval(LOCK, 1, prefix + key, until, now);
    },
    async giveBack(change) {
      // The counter to clear is an argument, not a key: a cluster would want it in KEYS, and a
      // single Redis (what Tessera runs with) takes either.
      await redis.eval(GIVE_BACK, change.forgive.length, ...change.forgive.map((k) => prefix + k), change.reset ? prefix + change.reset : "");
    },
  };
}

/**
 * Redis's counters while Redis answers, the database's while it does not: brute-force protection
 * must hold through a Redis outage (failing open would hand an attacker unlimited guesses, failing
 * closed would lock every user out). Failures counted during the outage stay in the database;
 * once Redis is back it counts alone again, so an outage gives an attacker at most one extra
 * window's worth of guesses, never an unlimited number.
 */
export function fallingBackAttemptStore(shared: AttemptStore, fallback: AttemptStore, run: RedisOrFallback): AttemptStore {
  return {
    counters: (keys) => run(() => shared.counters(keys), () => fallback.counters(keys)),
    recordFailure: (key, now, windowMs) => run(() => shared.recordFailure(key, now, windowMs), () => fallback.recordFailure(key, now, windowMs)),
    lock: (key, until, now) => run(() => shared.lock(key, until, now), () => fallback.lock(key, until, now)),
    giveBack: (change, now) => run(() => shared.giveBack(change, now), () => fallback.giveBack(change, now)),
  };
}
