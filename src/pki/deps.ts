import type { IdentityDeps } from "../identity/deps.ts";
import type { Clock } from "../shared/clock.ts";
import type { Secrets } from "../shared/crypto/secrets.ts";
import type { Hierarchy } from "./authorities.ts";
import { createKeystores, type Keystores } from "./keystores.ts";

/**
 * What a process's PKI keeps: its keystores (PKCS#11 sessions are per process) and the tenants'
 * authorities as last read, which every node rereads from the store (authorities.ts).
 */
export interface PkiRuntime {
  keystores: Keystores;
  hierarchies: Map<string, { readAt: number; hierarchy: Hierarchy }>;
}

/** The PKI's services take the identity services' dependencies and the process's PKI runtime. */
export interface PkiDeps extends IdentityDeps {
  pki: PkiRuntime;
}

export function createPkiRuntime(secrets: Secrets, clock: Clock): PkiRuntime {
  return { keystores: createKeystores(secrets, clock), hierarchies: new Map() };
}
