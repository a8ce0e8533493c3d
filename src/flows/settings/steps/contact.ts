import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { confirmContactChange, type ContactKind, requestContactChange } from "../../../identity/contacts.ts";
import { isValidMobile } from "../../enrolment/steps/set-security.ts";
import { normalizePhone } from "../../../identity/identifiers.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { codeIssue } from "../../code-issue.ts";
import type { StepDefinition } from "../../flow.ts";
import type { SettingsData } from "../data.ts";
import type { IdentifierChecks } from "../../../identity/identifier-checks.ts";
import type { Tenant } from "../../../tenants/tenant.ts";

/** Answers given before the check whether a new user ID is free: the booked check gives way. */
const BEFORE_THE_CHECK = new Set(["identifier.invalid_email", "contact.unchanged"]);

/**
 * A new e-mail address or mobile number: a code goes to it. Where the address is the user ID,
 * the check that it is free is booked and limited (identity/identifier-checks.ts).
 */
export function newContact(kind: ContactKind, checks: IdentifierChecks): StepDefinition<SettingsData, { value: string }> {
  const checksIdentifier = (tenant: Tenant) => kind === "email" && tenant.policy.identifier === "email";
  return {
    name: kind,
    input: z.object({ value: z.string().min(1).max(254) }),
    fields({ t }) {
      return [{ name: "value", type: kind === "email" ? "email" : "tel", required: true, label: t(kind === "email" ? "account.new_email" : "account.new_mobile") }];
    },
    gate: async (ctx) => (checksIdentifier(ctx.tenant) ? checks.book(ctx, "value") : null),
    async settle(ctx, _input, outcome) {
      if (!checksIdentifier(ctx.tenant)) return;
      await checks.settle(ctx, outcome.type !== "reject" || !outcome.errors.some((e) => BEFORE_THE_CHECK.has(e.code)));
    },
    async handle(ctx, input) {
      if (kind === "mobile") {
        const mobile = normalizePhone(input.value);
        if (!mobile || !isValidMobile(mobile)) return { type: "reject", errors: [{ field: "value", code: "phone.invalid", message: "not a mobile number" }] };
      }
      const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
      const requested = await requestContactChange(ctx.deps, ctx.tenant, account, ctx.flow.id, kind, input.value, ctx.by);
      if (!requested.ok) return { type: "reject", errors: [{ ...requested.error, field: "value" }] };
      return { type: "advance", to: `${kind}_code`, data: { sentTo: requested.value }, notice: { code: kind === "email" ? "enrol.email_sent" : "enrol.sms_sent", params: { email: requested.value, mobile: requested.value } } };
    },
  };
}

/** The code sent to the new value: the change is made, the old value is told. */
function contactCode(kind: ContactKind): StepDefinition<SettingsData, { code: string }> {
  return {
    name: `${kind}_code`,
    input: z.object({ code: z.string().min(1).max(20) }),
    reachableFrom: [],
    fields({ t }) {
      return [{ name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" }];
    },
    async handle(ctx, input) {
      const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
      const done = await confirmContactChange(ctx.deps, ctx.tenant, account, ctx.flow.id, kind, input.code, ctx.by);
      if (!done.ok) return { type: "reject", errors: [codeIssue(translator(ctx.locale), done)] };
      return { type: "finish", state: "complete", notice: { code: "account.saved" } };
    },
  };
}

export const newEmailCode = contactCode("email");
export const newMobileCode = contactCode("mobile");
