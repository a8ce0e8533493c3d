import type { Tenant } from "../tenants/tenant.ts";
import { type Account, createAccount, type NewAccount } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { TesseraError } from "../shared/errors.ts";

/**
 * The codice persona: the 8-digit number a university assigns to each person (seed 001, "ti verrà
 * assegnato un codice persona"), handed out in sequence from the tenant's
 * `registration.firstCodicePersona`. The counter only grows, so a number is never given twice,
 * whichever node asks; a number already held (an account made another way) is skipped.
 */
const SEQUENCE = "codice_persona";
const MAX_SKIPS = 1000;

export async function createAccountWithCodicePersona(
  deps: IdentityDeps,
  tenant: Tenant,
  input: Omit<NewAccount, "identifier">,
  by: Actor,
): Promise<Account> {
  if (tenant.policy.identifier !== "codice_persona") throw new TypeError(`tenant ${tenant.id} does not identify accounts by codice persona`);
  for (let skipped = 0; skipped < MAX_SKIPS; skipped++) {
    const value = await deps.repos.counters.next(tenant.id, SEQUENCE, tenant.policy.registration.firstCodicePersona);
    if (value > 99_999_999) break;
    try {
      return await createAccount(deps, tenant, { ...input, identifier: String(value) }, by);
    } catch (error) {
      if (!(error instanceof TesseraError && error.code === "account.identifier_taken")) throw error;
    }
  }
  throw new TesseraError("codice_persona.exhausted", `no free codice persona left in tenant ${tenant.id}`, { status: 503 });
}
