import type { Compilable, CompiledQuery, DialectAdapter, InferResult, Kysely, QueryResult } from "kysely";
import type { Database } from "./schema.gen.ts";

/**
 * A query of a hot path built and compiled once, then run with new parameters. Kysely builds an
 * immutable tree of nodes and compiles it to SQL at every run: for the few statements that every
 * sign-in or signed-in request runs, that cost the main thread more than the statement itself.
 *
 * `build` is called once, with placeholders for the parameters (`p.name`); it must use each
 * where Kysely makes it a bound parameter (a value, never a table, column or list of varying
 * length), and nothing else that varies. A run binds the values by name, on whatever executor it
 * is given: the pool, or a transaction. A value left undefined is bound as NULL (an insert built
 * here names every column: there is no leaving one out for its default).
 */
export function prepared<P extends Record<string, unknown>, Q extends Compilable<unknown>>(build: (db: Kysely<Database>, p: P) => Q) {
  // Per dialect (SQLite binds `?`, PostgreSQL `$1`): the adapter is one per store, shared by its transactions.
  const compiledFor = new WeakMap<DialectAdapter, { query: CompiledQuery; slots: string[] }>();
  const compile = (db: Kysely<Database>) => {
    const placeholders = new Proxy({}, { get: (_, name) => `${MARK}${String(name)}${MARK}` }) as P;
    const query = build(db, placeholders).compile();
    const slots = query.parameters.map((value) => {
      const name = typeof value === "string" && value.startsWith(MARK) && value.endsWith(MARK) ? value.slice(1, -1) : undefined;
      if (name === undefined) throw new TypeError(`prepared query: a parameter that is not a placeholder (${String(value)}) in ${query.sql}`);
      return name;
    });
    return { query, slots };
  };
  return async (db: Kysely<Database>, params: P): Promise<QueryResult<InferResult<Q>[number]>> => {
    const adapter = db.getExecutor().adapter;
    let compiled = compiledFor.get(adapter);
    if (!compiled) compiledFor.set(adapter, (compiled = compile(db)));
    const { query, slots } = compiled;
    return db.executeQuery<InferResult<Q>[number]>({ ...query, parameters: slots.map((name) => params[name] ?? null) });
  };
}

/** Marks a placeholder: a character no parameter value of Tessera's begins and ends with. */
const MARK = "\u0000";

/**
 * An insert's row made of placeholders, column by column: the placeholders object has no keys of
 * its own, so that `values(p)` would insert nothing; `columns` names every column the row has.
 */
export function placeholderRow<R>(p: R, columns: readonly (keyof R & string)[]): R {
  return Object.fromEntries(columns.map((c) => [c, p[c]])) as R;
}
