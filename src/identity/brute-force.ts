import type { LockoutPolicy } from "../tenants/policy.ts";

/**
 * Brute-force protection for anything that checks a secret (password, security answer, codes):
 *
 * - per identifier: after the n-th consecutive failure the next try must wait base × 2^(n-1)
 *   seconds, and `maxFailures` failures lock it for `lockMinutes` (SPID ErrorCode nr19). The key
 *   is the identifier as typed and normalised, whether or not an account has it, so the lock
 *   itself does not reveal which identifiers exist. A success clears the count.
 * - per client address: at most `ipMaxFailures` failures per window. Only failures count, so a
 *   busy office behind one address is not locked out by its own users signing in.
 *
 * An attempt is booked as a failure before the secret is checked (`beginAttempt`), atomically, so
 * that a burst of parallel guesses on several nodes cannot all pass the gate before any failure is
 * recorded; a success gives the booking back (`attemptSucceeded`). Counters live in an
 * AttemptStore shared by every node: the database, or Redis. Call these outside any database
 * transaction: a failure must be counted even when the step's transaction rolls back.
 */
export interface AttemptCounter {
  failures: number;
  windowStartedAt: number;
  lastFailureAt: number;
  lockedUntil: number | null;
}

export interface AttemptStore {
  /** The counters of `keys`, in their order (one round trip, whatever their number). */
  counters(keys: readonly string[]): Promise<(AttemptCounter | undefined)[]>;
  /**
   * Counts a failure atomically. The count starts again at 1 when the window began before
   * now − windowMs or a lock has run out (which is then cleared).
   */
  recordFailure(key: string, now: number, windowMs: number): Promise<AttemptCounter>;
  lock(key: string, until: number, now: number): Promise<void>;
  /**
   * In one round trip: takes one failure back from each of `forgive` (never below zero), and
   * clears `reset` (no failures, no lock, a new window from `now`).
   */
  giveBack(change: { forgive: readonly string[]; reset?: string }, now: number): Promise<void>;
}

export interface AttemptSubject {
  tenantId: string;
  /** Normalised identifier (or account id) under attack. */
  identifier: string;
  ip: string;
}

export type Denial =
  | { allowed: false; reason: "account.locked"; retryAfterSeconds: number; params: { minutes: number } }
  | { allowed: false; reason: "account.delayed"; retryAfterSeconds: number; params: { seconds: number } }
  | { allowed: false; reason: "account.ip_blocked"; retryAfterSeconds: number; params: { minutes: number } };
export type Gate = { allowed: true } | Denial;

/** Consecutive failures older than this are forgotten even without a success. */
const FAILURE_MEMORY_MS = 86_400_000;

const keys = (s: AttemptSubject) => ({ id: `id:${s.tenantId}:${s.identifier}`, ip: `ip:${s.tenantId}:${s.ip}` });

/** Whether an attempt would be refused now, without counting anything. */
export async function peekAttempt(store: AttemptStore, policy: LockoutPolicy, subject: AttemptSubject, now: number): Promise<Gate> {
  const k = keys(subject);
  const [ip, id] = await store.counters([k.ip, k.id]);
  const ipWindowMs = policy.ipWindowMinutes * 60_000;
  if (ip && ip.windowStartedAt > now - ipWindowMs && ip.failures >= policy.ipMaxFailures) {
    return ipBlocked(ip.windowStartedAt + ipWindowMs - now);
  }
  if (!id || id.lastFailureAt <= now - FAILURE_MEMORY_MS) return { allowed: true };
  if (id.lockedUntil !== null) return id.lockedUntil > now ? locked(id.lockedUntil - now) : { allowed: true };
  if (policy.delayBaseSeconds > 0 && id.failures > 0) {
    const nextAt = id.lastFailureAt + policy.delayBaseSeconds * 2 ** (id.failures - 1) * 1000;
    if (now < nextAt) return delayed(nextAt - now);
  }
  return { allowed: true };
}

/**
 * Lets an attempt go ahead, or not. An allowed attempt is already counted as a failure: report
 * the outcome with `attemptFailed` or `attemptSucceeded`.
 */
export async function beginAttempt(store: AttemptStore, policy: LockoutPolicy, subject: AttemptSubject, now: number): Promise<Gate> {
  const gate = await peekAttempt(store, policy, subject, now);
  if (!gate.allowed) return gate;
  const k = keys(subject);
  const ip = await store.recordFailure(k.ip, now, policy.ipWindowMinutes * 60_000);
  const id = await store.recordFailure(k.id, now, FAILURE_MEMORY_MS);
  // Parallel attempts booked in between may have used the allowance up.
  if (id.failures > policy.maxFailures) {
    await store.lock(k.id, now + policy.lockMinutes * 60_000, now);
    return locked(policy.lockMinutes * 60_000);
  }
  if (ip.failures > policy.ipMaxFailures) return ipBlocked(ip.windowStartedAt + policy.ipWindowMinutes * 60_000 - now);
  return { allowed: true };
}

/** The secret was wrong: the booked failure stands; the last one allowed locks the identifier. */
export async function attemptFailed(store: AttemptStore, policy: LockoutPolicy, subject: AttemptSubject, now: number): Promise<Gate> {
  const k = keys(subject);
  const [id] = await store.counters([k.id]);
  if (id && id.failures >= policy.maxFailures && (id.lockedUntil === null || id.lockedUntil <= now)) {
    await store.lock(k.id, now + policy.lockMinutes * 60_000, now);
  }
  return peekAttempt(store, policy, subject, now);
}

/** The secret was right: the identifier's count is cleared and the address gets its booking back. */
export async function attemptSucceeded(store: AttemptStore, subject: AttemptSubject, now: number): Promise<void> {
  const k = keys(subject);
  await store.giveBack({ reset: k.id, forgive: [k.ip] }, now);
}

/**
 * The attempt proved less than a sign-in (the signing password alone, before its code): its
 * booking is given back, and the count of earlier failures stands. Only a complete success clears it.
 */
export async function attemptWithdrawn(store: AttemptStore, subject: AttemptSubject, now: number): Promise<void> {
  const k = keys(subject);
  await store.giveBack({ forgive: [k.id, k.ip] }, now);
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function locked(ms: number): Denial {
  const retry = seconds(ms);
  return { allowed: false, reason: "account.locked", retryAfterSeconds: retry, params: { minutes: Math.ceil(retry / 60) } };
}

function delayed(ms: number): Denial {
  const retry = seconds(ms);
  return { allowed: false, reason: "account.delayed", retryAfterSeconds: retry, params: { seconds: retry } };
}

function ipBlocked(ms: number): Denial {
  const retry = seconds(ms);
  return { allowed: false, reason: "account.ip_blocked", retryAfterSeconds: retry, params: { minutes: Math.ceil(retry / 60) } };
}
