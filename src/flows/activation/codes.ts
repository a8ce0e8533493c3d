import { z } from "zod";
import type { Account } from "../../identity/accounts.ts";
import { maskContact } from "../../identity/identifiers.ts";
import { issueOtp, type OtpChannel, verifyOtp } from "../../identity/otp.ts";
import { translator } from "../../shared/i18n/translate.ts";
import { codeIssue } from "../code-issue.ts";
import { checkbox } from "../enrolment/data.ts";
import type { FieldSpec, StepContext, StepOutcome, ViewContext } from "../flow.ts";
import { type ActivationData, activationPurpose } from "./data.ts";

/** A code step's input: the code, or a request for a new one (by the other channel, if the holder has both). */
export const CodeInput = z.object({ code: z.string().max(20).optional(), send: checkbox.optional(), channel: z.enum(["sms", "email"]).optional() });
export type CodeInput = z.infer<typeof CodeInput>;

/** The channels the holder can get a code on: the mobile, when there is one, and the e-mail address. */
export function channelsOf(account: Account): OtpChannel[] {
  return account.phone ? ["sms", "email"] : ["email"];
}

export function codeFields({ t }: Pick<ViewContext<ActivationData>, "t">, account: Account | undefined): FieldSpec[] {
  const channels = account ? channelsOf(account) : [];
  return [
    { name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" },
    ...(channels.length > 1
      ? [{ name: "channel", type: "radio" as const, required: false, label: t("activation.field.channel"), options: channels.map((c) => ({ value: c, label: t(c === "sms" ? "activation.channel.sms" : "activation.channel.email", { to: maskContact(c === "sms" ? account!.phone! : account!.email!) }) })) }]
      : []),
  ];
}

/**
 * Sends the step's code to the holder (steps 2 and 6 of seed 002: "SMS de registro … u OTP MAIL"),
 * under the code throttles: the outcome stays on the step with a notice, or refuses with the
 * throttle's reason. `then` moves the flow on instead of staying (the step before a code's).
 */
export async function sendCode(
  ctx: StepContext<ActivationData>,
  account: Account,
  step: "code" | "final_code",
  channel: OtpChannel,
  then?: { to: string; data?: Partial<ActivationData> },
): Promise<StepOutcome<ActivationData>> {
  const chosen = channelsOf(account).includes(channel) ? channel : "email";
  const destination = chosen === "sms" ? account.phone! : account.email!;
  const sent = await issueOtp(ctx.deps, ctx.tenant, { purpose: activationPurpose(ctx.flow.id, step), channel: chosen, destination, locale: account.locale ?? ctx.locale });
  if (!sent.ok) return { type: "reject", errors: [{ field: "code", code: "code_throttled", message: translator(ctx.locale)(sent.reason, sent.params), params: sent.params }] };
  const data = { ...then?.data, channel: chosen, sentTo: maskContact(destination) };
  const notice = { code: "activation.code_sent" as const, params: { to: maskContact(destination) } };
  return then ? { type: "advance", to: then.to, data, notice } : { type: "stay", data, notice };
}

/** Checks the step's code; a right one also proves the contact it went to. */
export async function checkCode(ctx: StepContext<ActivationData>, account: Account, step: "code" | "final_code", code: string | undefined): Promise<{ ok: true } | StepOutcome<ActivationData>> {
  const t = translator(ctx.locale);
  if (!code) return { type: "reject", errors: [codeIssue(t, { reason: "enrol.required" })] };
  const verdict = await verifyOtp(ctx.deps, ctx.tenant, activationPurpose(ctx.flow.id, step), code);
  if (!verdict.ok) return { type: "reject", errors: [codeIssue(t, verdict)] };
  const now = ctx.deps.clock.now();
  if (verdict.channel === "sms" && account.phoneVerifiedAt === null && verdict.destination === account.phone) await ctx.deps.repos.accounts.update(ctx.tenant.id, account.id, { phone_verified_at: now, updated_at: now });
  if (verdict.channel === "email" && account.emailVerifiedAt === null && verdict.destination === account.email) await ctx.deps.repos.accounts.update(ctx.tenant.id, account.id, { email_verified_at: now, updated_at: now });
  return { ok: true };
}
