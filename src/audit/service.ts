import type { Repos } from "../store/repos/index.ts";
import type { Clock } from "../shared/clock.ts";
import { GENESIS_HASH, canonicalJson, entryHash } from "./chain.ts";

export interface AuditEvent {
  tenantId: string;
  /** `area.event`, e.g. `tenant.created`, `login.succeeded`. */
  type: string;
  /** Who acted: `system`, `cli`, `account:<id>`, `operator:<id>`. */
  actor: string;
  /** What the event is about, when it is not the actor (an account id, a client id). */
  subject?: string | null;
  ip?: string | null;
  requestId?: string | null;
  /** Details. Never secrets: no passwords, codes, tokens or keys. */
  data?: Record<string, unknown>;
}

/** Who did something, as the audit log records it. */
export interface Actor {
  /** `cli`, `system`, `anonymous`, `account:<id>`, `operator:<id>`. */
  actor: string;
  ip?: string | null;
  requestId?: string | null;
}

/** `recordAudit` for an event done by `by`: its actor, address and request id. */
export function recordAuditBy(
  repos: Repos,
  clock: Clock,
  by: Actor,
  event: { tenantId: string; type: string; subject?: string | null; data?: Record<string, unknown> },
): Promise<void> {
  return recordAudit(repos, clock, { ...event, actor: by.actor, ip: by.ip ?? null, requestId: by.requestId ?? null });
}

/** Appends an event to its tenant's chain, inside the caller's transaction when `repos` is one. */
export async function recordAudit(repos: Repos, clock: Clock, event: AuditEvent): Promise<void> {
  await repos.audit.append({ tenantId: event.tenantId, genesis: GENESIS_HASH }, (head) => {
    const fields = {
      tenant_id: event.tenantId,
      seq: head.seq + 1,
      at: clock.now(),
      type: event.type,
      actor: event.actor,
      subject: event.subject ?? null,
      ip: event.ip ?? null,
      request_id: event.requestId ?? null,
      data: canonicalJson(event.data ?? {}),
      prev_hash: head.hash,
    };
    return { ...fields, hash: entryHash(fields) };
  });
}

export type ChainReport =
  | { tenantId: string; intact: true; entries: number }
  | { tenantId: string; intact: false; entries: number; brokenAt: number; problem: string };

const PAGE = 1000;

/**
 * Walks a chain from the first entry and names the first place where it is broken: a missing
 * sequence number (a row deleted), a hash that does not match the row (a row edited), a link that
 * does not match the previous row (a row edited and re-hashed), or a head that does not match the
 * last row (rows deleted from the end).
 */
export async function verifyAuditChain(repos: Repos, tenantId: string): Promise<ChainReport> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const broken = (brokenAt: number, problem: string): ChainReport => ({
    tenantId,
    intact: false,
    entries: expectedSeq - 1,
    brokenAt,
    problem,
  });

  for (;;) {
    const page = await repos.audit.page(tenantId, expectedSeq - 1, PAGE);
    for (const entry of page) {
      if (entry.seq !== expectedSeq) {
        return broken(expectedSeq, `entry ${expectedSeq} is missing (deleted)`);
      }
      if (entryHash(entry) !== entry.hash) {
        return broken(entry.seq, `entry ${entry.seq} does not match its hash (edited)`);
      }
      if (entry.prev_hash !== prevHash) {
        return broken(entry.seq, `entry ${entry.seq} does not link to entry ${entry.seq - 1} (edited or replaced)`);
      }
      prevHash = entry.hash;
      expectedSeq++;
    }
    if (page.length < PAGE) break;
  }

  const last = expectedSeq - 1;
  const head = await repos.audit.head(tenantId);
  if (!head) {
    return last === 0 ? { tenantId, intact: true, entries: 0 } : broken(last, "the chain head is missing");
  }
  if (head.seq > last) return broken(last + 1, `entry ${last + 1} is missing (deleted)`);
  if (head.seq !== last || head.hash !== prevHash) {
    return broken(head.seq, `the chain head does not match entry ${head.seq}`);
  }
  return { tenantId, intact: true, entries: last };
}
