import { passwordRuleHints, type RuleFailure } from "../identity/password/rules.ts";
import type { FieldIssue } from "../shared/errors.ts";
import type { Translate } from "../shared/i18n/translate.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { FieldSpec } from "./flow.ts";

/** A field for choosing a password, with the tenant's rules for live hints. */
export function newPasswordField(tenant: Tenant, t: Translate, label = t("enrol.field.new_password")): FieldSpec {
  const rules = passwordRuleHints(tenant.policy.password).map((h) => ({ rule: h.rule, message: t(h.rule, h.params) }));
  return { name: "password", type: "password", required: true, label, autocomplete: "new-password", rules };
}

/** Password rule failures as the field errors of a form's `password` field. */
export function passwordIssues(failures: RuleFailure[], field = "password"): FieldIssue[] {
  return failures.map((f) => ({ field, code: f.rule, message: f.rule, params: f.params }));
}
