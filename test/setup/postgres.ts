import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL database made for this test run, or null when PostgreSQL tests are off. */
    pgUrl: string | null;
  }
}

const DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test";

/**
 * PostgreSQL tests run whenever CI or TESSERA_TEST_PG is set (TESSERA_TEST_PG may be the admin
 * URL). Then an unreachable server fails the whole run: it is never silently skipped. One database
 * is created for the run and dropped at the end; each test file works in schemas of its own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const flag = process.env.TESSERA_TEST_PG;
  const enabled = Boolean(process.env.CI) || Boolean(flag);
  if (!enabled) {
    project.provide("pgUrl", null);
    console.warn("PostgreSQL tests are off: set TESSERA_TEST_PG=1 (or a postgres:// admin URL) to run them.");
    return async () => {};
  }
  const adminUrl = flag && /^postgres(ql)?:\/\//.test(flag) ? flag : DEFAULT_ADMIN_URL;
  const name = `tessera_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL tests are required (CI or TESSERA_TEST_PG set) but ${adminUrl} is unreachable`, {
      cause: err,
    });
  }
  await admin.query(`create database ${name}`);
  await admin.end();

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  project.provide("pgUrl", url.toString());

  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${name} with (force)`);
    await cleanup.end();
  };
}
