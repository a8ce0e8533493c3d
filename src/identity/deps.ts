import type { Clock } from "../shared/clock.ts";
import type { Secrets } from "../shared/crypto/secrets.ts";
import type { Repos } from "../store/repos/index.ts";

/**
 * What identity services need. `repos` may be bound to a transaction: a service then writes
 * inside it, together with the action that called it.
 */
export interface IdentityDeps {
  repos: Repos;
  clock: Clock;
  secrets: Secrets;
}

export type { Actor } from "../audit/service.ts";
