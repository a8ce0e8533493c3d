import { type Kysely, sql } from "kysely";
import { transactionScope } from "../transaction-scope.ts";
import type { Dialect } from "../dialect.ts";
import type { Database } from "../schema.gen.ts";
import { accountRepo } from "./accounts.ts";
import { auditRepo } from "./audit.ts";
import { brokerRepo } from "./broker.ts";
import { consentRepo } from "./consents.ts";
import { counterRepo } from "./counters.ts";
import { factorRepo } from "./factors.ts";
import { flowRepo } from "./flows.ts";
import { instanceRepo } from "./instance.ts";
import { jobRunRepo } from "./job-runs.ts";
import { clientConsentRepo, oidcClientRepo, oidcModelRepo, signingKeyRepo } from "./oidc.ts";
import { otpRepo } from "./otp.ts";
import { pkiRepo } from "./pki.ts";
import { proofingRepo } from "./proofing.ts";
import { professionalsRepo } from "./professionals.ts";
import { samlRepo } from "./saml.ts";
import { signingRepo } from "./signing.ts";
import { outboxRepo } from "./outbox.ts";
import { sessionRepo } from "./sessions.ts";
import { tenantRepo } from "./tenants.ts";
import { throttleRepo } from "./throttles.ts";

function aggregateRepos(db: Kysely<Database>, dialect: Dialect) {
  return {
    instance: instanceRepo(db),
    tenants: tenantRepo(db),
    audit: auditRepo(db, dialect),
    broker: brokerRepo(db),
    accounts: accountRepo(db),
    consents: consentRepo(db),
    counters: counterRepo(db),
    factors: factorRepo(db),
    flows: flowRepo(db, dialect),
    otp: otpRepo(db),
    sessions: sessionRepo(db),
    throttles: throttleRepo(db),
    outbox: outboxRepo(db, dialect),
    jobRuns: jobRunRepo(db),
    signingKeys: signingKeyRepo(db),
    oidcClients: oidcClientRepo(db),
    oidcModels: oidcModelRepo(db),
    clientConsents: clientConsentRepo(db),
    saml: samlRepo(db),
    pki: pkiRepo(db),
    proofing: proofingRepo(db),
    professionals: professionalsRepo(db),
    signing: signingRepo(db),
  };
}

export type Repos = ReturnType<typeof aggregateRepos> & {
  atomically<T>(work: (repos: Repos) => Promise<T>): Promise<T>;
  lock(key: string): Promise<void>;
};

/** One repository per aggregate, all bound to the same executor (the pool or a transaction). */
export function createRepos(db: Kysely<Database>, dialect: Dialect): Repos {
  const repos: Repos = {
    ...aggregateRepos(db, dialect),
    /**
     * Runs `work` in a transaction: this one if the repos are bound to one, a new one otherwise.
     * For services whose reads and writes must not interleave with another node's.
     */
    atomically<T>(work: (repos: Repos) => Promise<T>): Promise<T> {
      if (db.isTransaction) return work(repos);
      return db.transaction().execute((trx) => transactionScope.run(true, () => work(createRepos(trx, dialect))));
    },
    /** Holds a named lock until the transaction ends (PostgreSQL; SQLite transactions are serial). */
    async lock(key: string): Promise<void> {
      if (dialect === "postgres") await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(db);
    },
  };
  return repos;
}
