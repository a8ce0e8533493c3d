import { Redis } from "ioredis";

/**
 * One Redis connection per process, for rate-limit and attempt counters. Commands fail fast while
 * Redis is unreachable (callers fall back or fail the request) and the client reconnects by itself.
 */
export function connectRedis(url: string, onError: (err: Error) => void): Redis {
  const redis = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: true });
  redis.on("error", onError);
  return redis;
}

/** What a fallback tells its owner: when it starts using its local counters, and when Redis is back. */
export type FallbackEvent = { kind: "fell_back"; error: string } | { kind: "recovered" };

/**
 * Runs work on Redis while it is connected and on a fallback while it is not, or when a command
 * fails. While Redis is down the fallback is used at once: a command would otherwise wait for the
 * client's reconnection attempts, and every request with it. `onEvent` hears once per outage that
 * the fallback took over, and once that Redis is back.
 */
export function redisOrFallback(redis: Redis, onEvent: (event: FallbackEvent) => void) {
  let degraded = false;
  const fellBack = (error: string) => {
    if (degraded) return;
    degraded = true;
    onEvent({ kind: "fell_back", error });
  };
  return async function run<T>(shared: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    if (redis.status !== "ready") {
      fellBack(`redis connection ${redis.status}`);
      return fallback();
    }
    let result: T;
    try {
      result = await shared();
    } catch (err) {
      fellBack(err instanceof Error ? err.message : String(err));
      return fallback();
    }
    if (degraded) {
      degraded = false;
      onEvent({ kind: "recovered" });
    }
    return result;
  };
}
export type RedisOrFallback = ReturnType<typeof redisOrFallback>;
