import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Marks the code running inside a transaction. SQLite has one connection: a query made through the
 * root store while a transaction holds it would wait forever. The SQLite driver checks this scope
 * and fails at once instead, naming the mistake.
 */
export const transactionScope = new AsyncLocalStorage<true>();
