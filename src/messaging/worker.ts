import type { OutboxRow } from "../store/repos/outbox.ts";
import { type OutboxDeps, openBody } from "./outbox.ts";
import type { Transports } from "./transports.ts";

export interface DeliveryOptions {
  /** Development mode: with no transport a message counts as delivered (to the dev outbox), and
   * delivered bodies are kept so that the dev outbox can show them. */
  devMode: boolean;
  batch?: number;
  /** How long a claimed message is reserved for this node before another may retry it. */
  leaseMs?: number;
  /** The longest one message may take to send before it counts as failed. */
  sendTimeoutMs?: number;
  /** First retry delay; it doubles with each failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A message still failing this long after it was queued is given up. */
  giveUpAfterMs?: number;
}

/**
 * A claim's lease must outlast sending its whole batch, or another node would claim and send the
 * same messages again: the batch's messages go out together, each given at most `sendTimeoutMs`
 * (the transports' own limits are shorter), well inside the lease. A node that dies holding a
 * claim delays its messages by at most the lease, after which another node sends them.
 */
const DEFAULTS = { batch: 5, leaseMs: 60_000, sendTimeoutMs: 30_000, backoffMs: 5_000, maxBackoffMs: 300_000, giveUpAfterMs: 86_400_000 };

/**
 * Delivers the messages that are due, once each: every message is claimed by one node (see
 * outboxRepo.claimDue) before it is sent. A failure schedules a retry with exponential back-off,
 * so an outage of the SMTP server or SMS gateway loses nothing. Returns how many were delivered.
 */
export async function deliverDue(deps: OutboxDeps, transports: Transports, options: DeliveryOptions): Promise<number> {
  const o = { ...DEFAULTS, ...options };
  const claimed = await deps.repos.outbox.claimDue(deps.clock.now(), o.leaseMs, o.batch);
  const delivered = await Promise.all(claimed.map((message) => deliverOne(deps, transports, message, o)));
  return delivered.filter(Boolean).length;
}

async function deliverOne(deps: OutboxDeps, transports: Transports, message: OutboxRow, o: typeof DEFAULTS & DeliveryOptions): Promise<boolean> {
  if (message.expires_at !== null && deps.clock.now() >= message.expires_at) {
    await deps.repos.outbox.settle(message, { status: "expired", error: "expired before it could be sent" });
    return false;
  }
  try {
    await withinTime(send(deps, transports, message, o.devMode), o.sendTimeoutMs);
    await deps.repos.outbox.settle(message, { status: "sent", at: deps.clock.now(), keepBody: o.devMode });
    return true;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    if (deps.clock.now() - message.created_at > o.giveUpAfterMs) {
      await deps.repos.outbox.settle(message, { status: "failed", error });
    } else {
      const delay = Math.min(o.backoffMs * 2 ** (message.attempts - 1), o.maxBackoffMs);
      await deps.repos.outbox.settle(message, { status: "pending", nextAttemptAt: deps.clock.now() + delay, error });
    }
    return false;
  }
}

/** Fails after `ms` if `work` has not settled (it may still finish: a retry then sends the same message, under the same id). */
function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function send(deps: OutboxDeps, transports: Transports, message: OutboxRow, devMode: boolean): Promise<void> {
  if (!message.body) throw new Error("message body missing");
  const body = openBody(deps.secrets, message.id, message.body);
  if (message.channel === "email") {
    if (transports.email) await transports.email.send({ id: message.id, to: message.recipient, subject: body.subject ?? "", text: body.text, html: body.html });
    else noTransport(devMode, "e-mail");
  } else {
    if (transports.sms) await transports.sms.send({ id: message.id, to: message.recipient, text: body.text });
    else noTransport(devMode, "SMS");
  }
}

/** In development mode a message with no transport counts as delivered (to the dev outbox). */
function noTransport(devMode: boolean, what: string): void {
  if (!devMode) throw new Error(`no ${what} transport is configured`);
}

/**
 * Runs `deliverDue` every `intervalMs` on this node until stopped. Several nodes may run it: each
 * message still goes out once.
 */
export function startOutboxWorker(
  deps: OutboxDeps,
  transports: Transports,
  options: DeliveryOptions & { intervalMs?: number; onError?: (err: unknown) => void },
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  let stopped = false;
  // One delivery round at a time on this node: a slow round delays the next instead of overlapping.
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    running = deliverDue(deps, transports, options)
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs ?? 500);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
