import { CompiledQuery, type DatabaseConnection, SqliteDialect, type SqliteDialectConfig, SqliteDriver } from "kysely";
import { transactionScope } from "./transaction-scope.ts";

export type Dialect = "sqlite" | "postgres";

/**
 * SQLite transactions start with BEGIN IMMEDIATE, which takes the write lock up front. With a plain
 * BEGIN, two processes that both read and then write deadlock on the upgrade and one gets
 * SQLITE_BUSY at once, without waiting for busy_timeout.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    if (transactionScope.getStore()) {
      throw new Error("query through the root store inside a transaction (it would deadlock SQLite): use the transaction's repos");
    }
    return super.acquireConnection();
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
