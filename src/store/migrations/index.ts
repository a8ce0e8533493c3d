import type { Kysely, Migration } from "kysely";
import type { Dialect } from "../dialect.ts";
import * as m0001 from "./0001-foundation.ts";
import * as m0002 from "./0002-identity.ts";
import * as m0003 from "./0003-enrolment.ts";
import * as m0004 from "./0004-self-service.ts";
import * as m0005 from "./0005-oidc.ts";
import * as m0006 from "./0006-saml.ts";
import * as m0007 from "./0007-decoy-hash.ts";
import * as m0008 from "./0008-broker.ts";
import * as m0009 from "./0009-pki.ts";
import * as m0010 from "./0010-proofing.ts";
import * as m0011 from "./0011-professionals.ts";
import * as m0012 from "./0012-signing.ts";
import * as m0013 from "./0013-audit-head-trigger.ts";

interface VersionedMigration {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** Every migration in order. Names sort as they run; a new one gets the next number. */
const all: Record<string, VersionedMigration> = {
  "0001-foundation": m0001,
  "0002-identity": m0002,
  "0003-enrolment": m0003,
  "0004-self-service": m0004,
  "0005-oidc": m0005,
  "0006-saml": m0006,
  "0007-decoy-hash": m0007,
  "0008-broker": m0008,
  "0009-pki": m0009,
  "0010-proofing": m0010,
  "0011-professionals": m0011,
  "0012-signing": m0012,
  "0013-audit-head-trigger": m0013,
};

export function migrations(dialect: Dialect): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(all).map(([name, m]) => [name, { up: (db: Kysely<unknown>) => m.up(db, dialect) }]),
  );
}
