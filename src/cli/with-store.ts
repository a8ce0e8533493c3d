import { createPkiRuntime, type PkiDeps } from "../pki/deps.ts";
import { checkMasterKey } from "../server.ts";
import { systemClock } from "../shared/clock.ts";
import type { Settings } from "../shared/config/settings.ts";
import { loadMasterKey } from "../shared/crypto/master-key.ts";
import { createSecrets } from "../shared/crypto/secrets.ts";
import { TesseraError } from "../shared/errors.ts";
import { openStore, type Store } from "../store/db.ts";
import { findTenant } from "../tenants/service.ts";
import type { Tenant } from "../tenants/tenant.ts";

/**
 * Opens the store for a one-off command and closes it afterwards. Commands other than `start`
 * and `migrate` never change the schema: on an older schema they stop and say so.
 */
export async function withStore<T>(settings: Settings, work: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(settings.databaseUrl, { poolSize: 2 });
  try {
    const pending = await store.pendingMigrations();
    if (pending.length > 0) {
      throw new TesseraError(
        "store.not_migrated",
        `the database schema is not up to date (pending: ${pending.join(", ")}); run \`tessera migrate\` first`,
      );
    }
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * The store with the services' dependencies (the master key loaded and checked against the
 * database), for commands that read or write secrets: clients, keys, the PKI.
 */
export async function withServices<T>(settings: Settings, work: (store: Store, deps: PkiDeps) => Promise<T>): Promise<T> {
  return withStore(settings, async (store) => {
    const masterKey = loadMasterKey(settings.masterKey, settings.dataDir);
    await checkMasterKey(store, masterKey);
    const secrets = createSecrets(masterKey.key);
    return work(store, { repos: store.repos, clock: systemClock, secrets, pki: createPkiRuntime(secrets, systemClock) });
  });
}

/** The tenant a command names, or the error that says there is none. */
export async function tenantOf(store: Store, id: string): Promise<Tenant> {
  const tenant = await findTenant(store.repos, id);
  if (!tenant) throw new TesseraError("tenant.not_found", `no tenant ${id}`, { status: 404 });
  return tenant;
}
