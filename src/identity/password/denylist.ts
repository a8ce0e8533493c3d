import { dictionary } from "@zxcvbn-ts/language-common";

/**
 * Common passwords, from the zxcvbn-ts common dictionary (≈49,000 entries gathered from breach
 * corpora; MIT). Held in a Set: one hash lookup per check, whatever the list's length.
 */
const COMMON: ReadonlySet<string> = new Set(dictionary["passwords-common"].map((p) => p.toLowerCase()));

export const COMMON_PASSWORD_COUNT = COMMON.size;

/**
 * True for a listed password, ignoring case, and for one that is a listed password with digits or
 * symbols merely added around it ("Password123!"), the commonest way of meeting composition rules.
 */
export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return true;
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/gu, "");
  return core.length >= 4 && core !== lower && COMMON.has(core);
}
