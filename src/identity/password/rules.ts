import type { PasswordPolicy } from "../../tenants/policy.ts";
import { isCommonPassword } from "./denylist.ts";

/**
 * The password rules a tenant's policy turns on, as pure functions. Every rule that fails is
 * reported, each with its own id (which is also the i18n key of its message), so that a form can
 * show them all at once; `passwordRuleHints` lists the rules in force for live hints on forms.
 * Reuse (history) needs stored hashes and is checked by the service, not here.
 */
export type PasswordRule =
  | "password.min_length"
  | "password.max_length"
  | "password.uppercase"
  | "password.lowercase"
  | "password.digit"
  | "password.special"
  | "password.repeated"
  | "password.personal_data"
  | "password.common"
  | "password.reused";

export interface RuleFailure {
  rule: PasswordRule;
  params: Record<string, string | number>;
}

/** What is known of the holder, for the personal-data rule. */
export interface PersonalData {
  givenName?: string | null;
  familyName?: string | null;
  fiscalCode?: string | null;
  /** ISO date, YYYY-MM-DD. */
  birthDate?: string | null;
  email?: string | null;
  documentNumber?: string | null;
}

export function checkPasswordRules(policy: PasswordPolicy, password: string, personal: PersonalData = {}): RuleFailure[] {
  const failures: RuleFailure[] = [];
  const fail = (rule: PasswordRule, params: Record<string, string | number> = {}) => failures.push({ rule, params });
  const length = [...password].length;

  if (length < policy.minLength) fail("password.min_length", { min: policy.minLength });
  if (length > policy.maxLength) fail("password.max_length", { max: policy.maxLength });
  if (policy.requireUppercase && !/\p{Lu}/u.test(password)) fail("password.uppercase");
  if (policy.requireLowercase && !/\p{Ll}/u.test(password)) fail("password.lowercase");
  if (policy.requireDigit && !/\p{Nd}/u.test(password)) fail("password.digit");
  if (policy.requireSpecial && !/[^\p{L}\p{N}]/u.test(password)) fail("password.special");
  if (policy.maxRepeat !== null && longestRun(password) > policy.maxRepeat) fail("password.repeated", { max: policy.maxRepeat });
  if (policy.forbidPersonalData && containsPersonalData(password, personal)) fail("password.personal_data");
  if (policy.denyCommon && isCommonPassword(password)) fail("password.common");
  return failures;
}

/** The rules in force, with their parameters, in the order forms show them. */
export function passwordRuleHints(policy: PasswordPolicy): RuleFailure[] {
  const hints: RuleFailure[] = [{ rule: "password.min_length", params: { min: policy.minLength } }];
  if (policy.requireUppercase) hints.push({ rule: "password.uppercase", params: {} });
  if (policy.requireLowercase) hints.push({ rule: "password.lowercase", params: {} });
  if (policy.requireDigit) hints.push({ rule: "password.digit", params: {} });
  if (policy.requireSpecial) hints.push({ rule: "password.special", params: {} });
  if (policy.maxRepeat !== null) hints.push({ rule: "password.repeated", params: { max: policy.maxRepeat } });
  if (policy.forbidPersonalData) hints.push({ rule: "password.personal_data", params: {} });
  if (policy.denyCommon) hints.push({ rule: "password.common", params: {} });
  if (policy.history.count > 0 || policy.history.months > 0) {
    hints.push({ rule: "password.reused", params: { count: policy.history.count, months: policy.history.months } });
  }
  return hints;
}

/** Length of the longest run of one character repeated ("aaa" → 3). Code points, case-sensitive. */
export function longestRun(text: string): number {
  let longest = 0;
  let run = 0;
  let previous: string | undefined;
  for (const c of text) {
    run = c === previous ? run + 1 : 1;
    previous = c;
    if (run > longest) longest = run;
  }
  return longest;
}

/** Lower case without accents or separators, so that "Rossì" is found in "ross1-ROSSI". */
function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "");
}

/** Fragments of the holder's data that a password must not contain. */
export function personalFragments(personal: PersonalData): string[] {
  const fragments: string[] = [];
  const words = (text: string | null | undefined) =>
    (text ?? "")
      .split(/[\s'’.-]+/)
      .map(fold)
      .filter((w) => w.length >= 3);
  fragments.push(...words(personal.givenName), ...words(personal.familyName));
  const joinedName = fold(`${personal.givenName ?? ""}${personal.familyName ?? ""}`);
  if (personal.givenName && personal.familyName) fragments.push(joinedName);
  if (personal.fiscalCode) fragments.push(fold(personal.fiscalCode));
  if (personal.documentNumber && fold(personal.documentNumber).length >= 4) fragments.push(fold(personal.documentNumber));
  if (personal.email) {
    const local = personal.email.split("@")[0] ?? "";
    if (fold(local).length >= 3) fragments.push(fold(local));
    fragments.push(...local.split(/[._+-]+/).map(fold).filter((w) => w.length >= 3));
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(personal.birthDate ?? "");
  if (date) {
    const [, y, m, d] = date as unknown as [string, string, string, string];
    // The year alone is enough to tie a password to its holder; the forms add day and month.
    fragments.push(y, `${d}${m}${y}`, `${d}${m}${y.slice(2)}`, `${y}${m}${d}`, `${m}${d}${y}`);
  }
  return [...new Set(fragments)];
}

function containsPersonalData(password: string, personal: PersonalData): boolean {
  const folded = fold(password);
  return personalFragments(personal).some((f) => folded.includes(f));
}
