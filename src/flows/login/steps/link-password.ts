import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded, attemptWithdrawn, beginAttempt } from "../../../identity/brute-force.ts";
import { relyingPartyOf } from "../../../identity/passkeys.ts";
import { verifyPassword } from "../../../identity/password/service.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { StepDefinition } from "../../flow.ts";
import type { LoginData } from "../data.ts";
import { afterFirstFactor } from "../finish.ts";

/**
 * SPID/CIE asserted a codice fiscale that an account already has, but only as typed at
 * registration: anyone could have typed it. Its password proves the account is the person's;
 * then the codice fiscale counts as verified and the sign-in goes on. Guesses are under the
 * brute-force gate, keyed by the account.
 */
export function linkWithPassword(attempts: AttemptStore, clockNow: () => number): StepDefinition<LoginData, { password: string }, { ok: boolean }> {
  const subject = (tenantId: string, accountId: string, ip: string | null | undefined) => ({ tenantId, identifier: `link:${accountId}`, ip: ip ?? "unknown" });
  return {
    name: "link_password",
    input: z.object({ password: z.string().min(1).max(256) }),

    fields({ t }) {
      return [{ name: "password", type: "password", required: true, label: t("login.password"), autocomplete: "current-password" }];
    },

    async gate(ctx) {
      const gate = await beginAttempt(attempts, ctx.tenant.policy.lockout, subject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip), clockNow());
      return gate.allowed ? null : [{ field: "password", code: "locked", message: translator(ctx.locale)(gate.reason, gate.params), params: gate.params }];
    },

    // argon2id outside the transaction, as at sign-in.
    async prepare(ctx, input) {
      const account = await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!);
      return { ok: (await verifyPassword(ctx.deps, ctx.tenant, account, input.password)).ok };
    },

    async handle(ctx, _input, checked) {
      if (!checked.ok) return { type: "reject", errors: [{ field: "password", code: "invalid_credentials", message: translator(ctx.locale)("login.invalid_credentials") }] };
      const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
      const now = ctx.deps.clock.now();
      await ctx.deps.repos.accounts.update(ctx.tenant.id, account.id, { fiscal_code_verified_at: now, updated_at: now });
      return afterFirstFactor(ctx, account, relyingPartyOf(ctx.tenant, ctx.tenantUrl), ctx.flow.data.firstFactor ?? []);
    },

    async settle(ctx, _input, outcome) {
      const who = subject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip);
      if (outcome.type === "reject" && outcome.errors.some((e) => e.code === "invalid_credentials")) await attemptFailed(attempts, ctx.tenant.policy.lockout, who, clockNow());
      else if (outcome.type !== "reject") await attemptSucceeded(attempts, who, clockNow());
    },

    withdraw: (ctx) => attemptWithdrawn(attempts, subject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip), clockNow()),
  };
}
