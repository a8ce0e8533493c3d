import { createHash } from "node:crypto";
import type { AuditEntryRow } from "../store/repos/audit.ts";

/**
 * The audit log is one hash chain per tenant: entry n stores the SHA-256 of entry n-1, and its own
 * hash covers every column, so editing, deleting or re-ordering a row breaks the chain at that
 * point. The hash input is a JSON array, which keeps field boundaries unambiguous.
 */
export const GENESIS_HASH = "0".repeat(64);

/** Every column of an entry but its own hash. `data` is canonical JSON (see canonicalJson), stored
 * as is so that the hash can be recomputed from the row. */
export type ChainedFields = Omit<AuditEntryRow, "hash">;

export function entryHash(e: ChainedFields): string {
  const input = JSON.stringify([
    e.prev_hash,
    e.tenant_id,
    e.seq,
    e.at,
    e.type,
    e.actor,
    e.subject,
    e.ip,
    e.request_id,
    e.data,
  ]);
  return createHash("sha256").update(input).digest("hex");
}

/** JSON with object keys sorted at every level: one text for one value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
