import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { normalizePhone } from "../../../identity/identifiers.ts";
import { issueOtp } from "../../../identity/otp.ts";
import { setSecurityAnswer } from "../../../identity/security-question.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import { type StepDefinition, StepRejection } from "../../flow.ts";
import { type EnrolmentData, purposes, text } from "../data.ts";

/**
 * Italian mobile numbers: +39 then 3 and 8 or 9 more digits (the mobile ranges of the national
 * numbering plan, AGCOM delibera 8/15/CIR). Other countries' numbers are taken as E.164.
 */
export function isValidMobile(e164: string): boolean {
  return e164.startsWith("+39") ? /^\+393\d{8,9}$/.test(e164) : true;
}

/**
 * Step 4 (seed 000, "Informazioni di sicurezza e recapito telefonico"): a security question and
 * its answer, for recovering the password, and the mobile number for codes, which an SMS code
 * confirms next. The step can be taken again from the next one, to correct the number.
 */
export const setSecurity: StepDefinition<EnrolmentData, { question?: string | undefined; answer?: string | undefined; mobile?: string | undefined }> = {
  name: "security",
  input: z.object({ question: text(40), answer: text(200), mobile: text(30) }),
  reachableFrom: ["mobile_confirmation"],

  fields({ tenant, flow, locale, t }) {
    return [
      {
        name: "question",
        type: "select",
        required: true,
        label: t("enrol.field.question"),
        options: tenant.policy.securityQuestions.map((q) => ({ value: q.id, label: q.text[locale] ?? q.text[tenant.defaultLocale] ?? q.id })),
        ...(flow.data.security ? { value: flow.data.security.question } : {}),
      },
      { name: "answer", type: "text", required: true, label: t("enrol.field.answer"), autocomplete: "off" },
      { name: "mobile", type: "tel", required: true, label: t("enrol.field.mobile"), hint: t("enrol.field.mobile.hint"), autocomplete: "tel", ...(flow.data.security ? { value: flow.data.security.mobile } : {}) },
    ];
  },

  async handle(ctx, input) {
    const { deps, tenant, flow } = ctx;
    const errors: FieldIssue[] = [];
    if (!input.question) errors.push({ field: "question", code: "enrol.required", message: "required" });
    else if (!tenant.policy.securityQuestions.some((q) => q.id === input.question)) {
      errors.push({ field: "question", code: "security_question.unknown", message: "unknown question" });
    }
    if (!input.answer) errors.push({ field: "answer", code: "enrol.required", message: "required" });
    const mobile = input.mobile ? normalizePhone(input.mobile) : null;
    if (!input.mobile) errors.push({ field: "mobile", code: "enrol.required", message: "required" });
    else if (!mobile || !isValidMobile(mobile)) errors.push({ field: "mobile", code: "phone.invalid", message: "not a mobile number" });
    if (errors.length > 0) return { type: "reject", errors };

    const account = (await findAccount(deps, tenant, flow.accountId!))!;
    const answered = await setSecurityAnswer(deps, tenant, account, input.question!, input.answer!, ctx.by);
    if (!answered.ok) throw new StepRejection([{ field: answered.field, code: answered.reason, message: answered.reason, params: answered.params }]);
    await deps.repos.accounts.update(tenant.id, account.id, { phone: mobile, phone_verified_at: null, updated_at: deps.clock.now() });
    const sent = await issueOtp(deps, tenant, { purpose: purposes.mobileConfirmation(flow.id), channel: "sms", destination: mobile!, locale: ctx.locale });
    // No SMS, no change: the answer and number written above are rolled back.
    if (!sent.ok) throw new StepRejection([{ field: "mobile", code: sent.reason, message: sent.reason, params: sent.params }]);
    return {
      type: "advance",
      to: "mobile_confirmation",
      data: { security: { question: input.question!, mobile: mobile! } },
      notice: { code: "enrol.sms_sent", params: { mobile: mobile!, email: "" } },
    };
  },
};
