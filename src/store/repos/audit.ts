import type { Insertable, Kysely, Selectable } from "kysely";
import type { Dialect } from "../dialect.ts";
import { placeholderRow, prepared } from "../prepared.ts";
import type { AuditEntriesTable, Database } from "../schema.gen.ts";

export type AuditEntryRow = Selectable<AuditEntriesTable>;
export type NewAuditEntryRow = Insertable<AuditEntriesTable>;

export interface AuditHead {
  seq: number;
  hash: string;
}

const ENTRY_COLUMNS = ["tenant_id", "seq", "at", "type", "actor", "subject", "ip", "request_id", "data", "prev_hash", "hash"] as const;

// Every audited action runs these (store/prepared.ts).
const headOf = prepared((db, p: { tenantId: string }) => db.selectFrom("audit_heads").select(["seq", "hash"]).where("tenant_id", "=", p.tenantId));
const headLocked = prepared((db, p: { tenantId: string }) => db.selectFrom("audit_heads").select(["seq", "hash"]).where("tenant_id", "=", p.tenantId).forUpdate());
const insertEntry = prepared((db, p: AuditEntryRow) => db.insertInto("audit_entries").values(placeholderRow(p, ENTRY_COLUMNS)));

export function auditRepo(db: Kysely<Database>, dialect: Dialect) {
  // Inside a transaction, the heads this transaction has moved: its own (locked) rows, known
  // without being read again for the step's next entry.
  const moved = new Map<string, AuditHead>();
  return {
    /**
     * Appends one entry to a tenant's chain. `build` receives the chain head (locked until the
     * transaction ends, so concurrent appenders on any node queue up) and returns the entry.
     * Joins the caller's transaction when there is one, so that the entry lands with the action.
     */
    async append(
      chain: { tenantId: string; genesis: string },
      build: (head: AuditHead) => NewAuditEntryRow,
    ): Promise<NewAuditEntryRow> {
      const run = async (trx: Kysely<Database>) => {
        // SQLite needs no row lock: its transactions begin immediate and so hold the write lock.
        const select = async () => (await (dialect === "postgres" ? headLocked : headOf)(trx, { tenantId: chain.tenantId })).rows[0];
        let head = db.isTransaction ? moved.get(chain.tenantId) : undefined;
        head ??= await select();
        if (!head) {
          // A chain's first entry: its head is made once (concurrent first appenders meet on the key).
          await trx
            .insertInto("audit_heads")
            .values({ tenant_id: chain.tenantId, seq: 0, hash: chain.genesis })
            .onConflict((oc) => oc.column("tenant_id").doNothing())
            .execute();
          head = (await select())!;
        }
        const entry = build(head);
        // The head follows in the database (a trigger, migration 0013), still locked to the commit.
        await insertEntry(trx, entry as AuditEntryRow); // subject, ip, request_id: NULL when left out
        if (db.isTransaction) moved.set(chain.tenantId, { seq: Number(entry.seq), hash: entry.hash });
        return entry;
      };
      return db.isTransaction ? run(db) : db.transaction().execute(run);
    },

    head(tenantId: string): Promise<AuditHead | undefined> {
      return db.selectFrom("audit_heads").select(["seq", "hash"]).where("tenant_id", "=", tenantId).executeTakeFirst();
    },

    /** Entries after `afterSeq` in chain order, `limit` at a time (keyset paging). */
    page(tenantId: string, afterSeq: number, limit: number): Promise<AuditEntryRow[]> {
      return db
        .selectFrom("audit_entries")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("seq", ">", afterSeq)
        .orderBy("seq")
        .limit(limit)
        .execute();
    },

    /** A tenant's entries about one subject, newest first, optionally of some types only. */
    bySubject(tenantId: string, subject: string, types: string[] | undefined, limit: number): Promise<AuditEntryRow[]> {
      let q = db.selectFrom("audit_entries").selectAll().where("tenant_id", "=", tenantId).where("subject", "=", subject);
      if (types) q = q.where("type", "in", types);
      return q.orderBy("at", "desc").orderBy("seq", "desc").limit(limit).execute();
    },

    /** Every chain that has a head or an entry (a chain whose head was deleted still shows). */
    async chainIds(): Promise<string[]> {
      const rows = await db
        .selectFrom("audit_heads")
        .select("tenant_id")
        .union(db.selectFrom("audit_entries").select("tenant_id"))
        .execute();
      return rows.map((r) => r.tenant_id).sort();
    },
  };
}
