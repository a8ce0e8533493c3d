import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded, attemptWithdrawn, beginAttempt } from "../../../identity/brute-force.ts";
import type { Method } from "../../../identity/levels.ts";
import { maskContact } from "../../../identity/identifiers.ts";
import { issueOtp, verifyOtp } from "../../../identity/otp.ts";
import { beginPasskeyAuthentication, finishPasskeyAuthentication, relyingPartyOf } from "../../../identity/passkeys.ts";
import { useRecoveryCode } from "../../../identity/recovery-codes.ts";
import { availableSecondFactors } from "../../../identity/second-factors.ts";
import { verifyTotp } from "../../../identity/totp.ts";
import { type MessageKey, translator } from "../../../shared/i18n/translate.ts";
import { SECOND_FACTORS } from "../../../tenants/policy.ts";
import { codeIssue } from "../../code-issue.ts";
import { checkbox } from "../../enrolment/data.ts";
import type { StepDefinition, StepOutcome } from "../../flow.ts";
import { type LoginData, secondFactorPurpose } from "../data.ts";
import { signedIn } from "../finish.ts";

const Input = z.object({
  method: z.enum(SECOND_FACTORS),
  code: z.string().max(20).optional(),
  send: checkbox.optional(),
  /** A passkey assertion (PublicKeyCredential.toJSON()), when method is passkey. */
  response: z.looseObject({ id: z.string().max(1024), type: z.literal("public-key"), response: z.looseObject({}) }).optional(),
});
type Input = z.infer<typeof Input>;

/** Codes a person could guess at: one more brute-force gate on top of their own limits. */
const GUESSABLE = new Set(["totp", "recovery_code"]);

/**
 * The second factor for level 2 (SPID L2): one of the account's factors that the tenant offers:
 * a code by SMS or e-mail (asked for with `send`, again under the code throttles), the
 * authenticator app, a passkey, or a recovery code when the usual factor is lost.
 */
export function secondFactor(attempts: AttemptStore, clockNow: () => number): StepDefinition<LoginData, Input> {
  const subject = (tenantId: string, accountId: string, ip: string | null | undefined) => ({
    tenantId,
    identifier: `2fa:${accountId}`,
    ip: ip ?? "unknown",
  });
  return {
    name: "second_factor",
    input: Input,

    async fields({ tenant, flow, t, deps }) {
      const account = await findAccount(deps, tenant, flow.accountId!);
      const factors = account ? await availableSecondFactors(deps, tenant, account) : [];
      return [
        { name: "method", type: "radio", required: true, label: t("login.field.method"), options: factors.map((f) => ({ value: f, label: t(`login.factor.${f}`) })) },
        { name: "code", type: "code", required: false, label: t("enrol.field.code"), autocomplete: "one-time-code" },
        ...(flow.data.passkey ? [{ name: "response", type: "text" as const, required: false, label: t("login.factor.passkey"), challenge: flow.data.passkey.options }] : []),
      ];
    },

    async gate(ctx, input) {
      if (!GUESSABLE.has(input.method) || !ctx.flow.accountId) return null;
      const gate = await beginAttempt(attempts, ctx.tenant.policy.lockout, subject(ctx.tenant.id, ctx.flow.accountId, ctx.by.ip), clockNow());
      if (gate.allowed) return null;
      return [{ field: "code", code: "locked", message: translator(ctx.locale)(gate.reason, gate.params), params: gate.params }];
    },

    async handle(ctx, input): Promise<StepOutcome<LoginData>> {
      const t = translator(ctx.locale);
      const { deps, tenant, flow } = ctx;
      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      const fail = (reason: MessageKey, params?: Record<string, string | number>, data?: Partial<LoginData>): StepOutcome<LoginData> => ({
        type: "reject",
        errors: [codeIssue(t, { reason, ...(params ? { params } : {}) })],
        ...(data ? { data } : {}),
      });
      if (!(await availableSecondFactors(deps, tenant, account)).includes(input.method)) {
        return { type: "reject", errors: [{ field: "method", code: "method_unavailable", message: t("login.method_unavailable") }] };
      }
      const done = (method: Method) => signedIn(ctx, account, 2, [...(flow.data.firstFactor ?? ["password"]), method]);

      switch (input.method) {
        case "sms":
        case "email": {
          const purpose = secondFactorPurpose(flow.id, input.method);
          if (input.send) {
            const destination = input.method === "sms" ? account.phone! : account.email!;
            const sent = await issueOtp(deps, tenant, { purpose, channel: input.method, destination, locale: account.locale ?? ctx.locale });
            if (!sent.ok) return { type: "reject", errors: [{ field: "code", code: "code_throttled", message: t(sent.reason, sent.params), params: sent.params }] };
            return { type: "stay", notice: { code: input.method === "sms" ? "login.sms_sent" : "login.email_sent", params: { to: maskContact(destination) } } };
          }
          if (!input.code) return fail("enrol.required");
          const verdict = await verifyOtp(deps, tenant, purpose, input.code);
          if (!verdict.ok) return fail(verdict.reason, verdict.params);
          return done(input.method);
        }
        case "totp": {
          const verdict = await verifyTotp(deps, tenant, account, input.code ?? "");
          return verdict.ok ? done("totp") : fail(verdict.reason);
        }
        case "recovery_code": {
          const verdict = await useRecoveryCode(deps, account, input.code ?? "");
          return verdict.ok ? done("recovery_code") : fail(verdict.reason);
        }
        case "passkey": {
          const rp = relyingPartyOf(tenant, ctx.tenantUrl);
          const retry = { passkey: await beginPasskeyAuthentication(deps, tenant, account, rp) };
          if (!flow.data.passkey || !input.response) return fail("passkey.failed", undefined, retry);
          const verdict = await finishPasskeyAuthentication(deps, tenant, rp, {
            ceremonyId: flow.data.passkey.ceremonyId,
            response: input.response as unknown as AuthenticationResponseJSON,
          });
          if (!verdict.ok || verdict.account.id !== account.id) return fail("passkey.failed", undefined, retry);
          return done(verdict.method);
        }
        case "upstream":
          // A step-up goes through the upstream's pages (the SPID/CIE buttons), and comes back to the upstream step.
          return { type: "reject", errors: [{ field: "method", code: "method_unavailable", message: t("login.upstream.use_button") }] };
      }
    },

    async settle(ctx, input, outcome) {
      if (!GUESSABLE.has(input.method) || !ctx.flow.accountId) return;
      const who = subject(ctx.tenant.id, ctx.flow.accountId, ctx.by.ip);
      if (outcome.type === "reject" && outcome.errors.some((e) => e.code === "invalid_code")) {
        await attemptFailed(attempts, ctx.tenant.policy.lockout, who, clockNow());
      } else if (outcome.type !== "reject") await attemptSucceeded(attempts, who, clockNow());
    },

    async withdraw(ctx, input) {
      if (!GUESSABLE.has(input.method) || !ctx.flow.accountId) return;
      await attemptWithdrawn(attempts, subject(ctx.tenant.id, ctx.flow.accountId, ctx.by.ip), clockNow());
    },
  };
}
