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
