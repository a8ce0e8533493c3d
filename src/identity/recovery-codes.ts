import { randomBytes } from "node:crypto";
import { recordAuditBy } from "../audit/service.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";

/**
 * Ten single-use recovery codes for when the second factor is lost. Each is 10 characters from an
 * alphabet without look-alikes (50 bits), shown once as XXXXX-XXXXX; only a keyed MAC is stored.
 * Generating a new set voids the old one.
 */
const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // 32 symbols: no 0/O, 1/I
const COUNT = 10;

export async function generateRecoveryCodes(deps: IdentityDeps, tenant: Tenant, account: Account, by: Actor): Promise<string[]> {
  const codes = Array.from({ length: COUNT }, () => {
    const chars = [...randomBytes(10)].map((b) => ALPHABET[b % 32]).join("");
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
  // Delete and insert together: a concurrent regeneration must not leave both sets valid, or none.
  await deps.repos.atomically(async (repos) => {
    await repos.lock(`recovery:${account.id}`);
    await repos.factors.replaceRecoveryCodes(
      account.id,
      codes.map((c) => deps.secrets.mac(codeInput(account.id, normalize(c)))),
      deps.clock.now(),
    );
  });
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "factor.recovery_codes_generated",
    subject: account.id,
  });
  return codes;
}

export type RecoveryOutcome = { ok: true; remaining: number } | { ok: false; reason: "recovery_code.invalid" | "recovery_code.used" };

export async function useRecoveryCode(deps: IdentityDeps, account: Account, typed: string): Promise<RecoveryOutcome> {
  const mac = deps.secrets.mac(codeInput(account.id, normalize(typed)));
  const stored = await deps.repos.factors.recoveryCode(account.id, mac);
  if (!stored) return { ok: false, reason: "recovery_code.invalid" };
  if (!(await deps.repos.factors.useRecoveryCode(account.id, mac, deps.clock.now()))) {
    return { ok: false, reason: "recovery_code.used" };
  }
  return { ok: true, remaining: await deps.repos.factors.unusedRecoveryCodes(account.id) };
}

export function remainingRecoveryCodes(deps: IdentityDeps, account: Account): Promise<number> {
  return deps.repos.factors.unusedRecoveryCodes(account.id);
}

/** Upper case without spaces or dashes: what users type varies, the code does not. */
function normalize(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

function codeInput(accountId: string, code: string): string {
  return `recovery:${accountId}:${code}`;
}
