import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { changeAccountState } from "../../../identity/lifecycle.ts";
import { issueOtp, verifyOtp } from "../../../identity/otp.ts";
import { maskContact } from "../../../identity/identifiers.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { codeIssue } from "../../code-issue.ts";
import type { StepDefinition } from "../../flow.ts";
import { type SettingsData, statePurpose } from "../data.ts";

/**
 * Suspending or revoking one's own identity: a code to the verified mobile number (or e-mail)
 * confirms that the holder, not just someone at their computer, asked.
 */
export const requestStateChange: StepDefinition<SettingsData, Record<string, never>> = {
  name: "state",
  input: z.object({}),
  automatic: true,
  fields() {
    return [];
  },
  async handle(ctx) {
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const bySms = account.phone !== null && account.phoneVerifiedAt !== null;
    const destination = bySms ? account.phone! : account.email!;
    const sent = await issueOtp(ctx.deps, ctx.tenant, { purpose: statePurpose(ctx.flow.id), channel: bySms ? "sms" : "email", destination, locale: account.locale ?? ctx.locale });
    if (!sent.ok) return { type: "reject", errors: [{ field: "code", code: "code_throttled", message: translator(ctx.locale)(sent.reason, sent.params), params: sent.params }] };
    return { type: "advance", to: "state_code", data: { sentTo: maskContact(destination) }, notice: { code: bySms ? "login.sms_sent" : "login.email_sent", params: { to: maskContact(destination) } } };
  },
};

export const confirmStateChange: StepDefinition<SettingsData, { code: string }> = {
  name: "state_code",
  input: z.object({ code: z.string().min(1).max(20) }),
  fields({ t }) {
    return [{ name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" }];
  },
  async handle(ctx, input) {
    const verdict = await verifyOtp(ctx.deps, ctx.tenant, statePurpose(ctx.flow.id), input.code);
    if (!verdict.ok) return { type: "reject", errors: [codeIssue(translator(ctx.locale), verdict)] };
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const state = ctx.flow.data.action === "revoke" ? "revoked" : "suspended";
    await changeAccountState(ctx.deps, ctx.tenant, account, state, ctx.by, "holder's request");
    return { type: "finish", state: "complete", notice: { code: state === "revoked" ? "account.revoked_done" : "account.suspended_done" } };
  },
};
