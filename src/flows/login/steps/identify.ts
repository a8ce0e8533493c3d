import { z } from "zod";
import { stateBlock } from "../../../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded, attemptWithdrawn, beginAttempt } from "../../../identity/brute-force.ts";
import { normalizeIdentifier } from "../../../identity/identifiers.ts";
import { relyingPartyOf } from "../../../identity/passkeys.ts";
import { checkPassword, confirmPassword, type PasswordCheck } from "../../../identity/password-sign-in.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { Tenant } from "../../../tenants/tenant.ts";
import type { StepDefinition } from "../../flow.ts";
import type { LoginData } from "../data.ts";
import { afterPassword } from "../finish.ts";

const Input = z.object({ identifier: z.string().max(254), password: z.string().max(256) });
type Input = z.infer<typeof Input>;

/** The key brute-force counters use: the identifier as typed, normalised where it can be. */
export function attemptIdentifier(tenant: Tenant, typed: string): string {
  return normalizeIdentifier(tenant.policy.identifier, typed) ?? typed.trim().toLowerCase();
}

/** The identifier field as each kind of tenant asks for it. */
const IDENTIFIER_AUTOCOMPLETE = { email: "username", dni: "username", codice_persona: "username" } as const;

/**
 * Identifier and password (level 1). Whether the identifier exists is never told: an unknown one
 * gets the same answer, after the same statements and the same argon2id work, as a wrong password
 * (identity/password-sign-in.ts), and the brute-force lock applies to identifiers as typed,
 * whether or not they exist. A malformed identifier (a DNI with a wrong check letter, say) can
 * belong to nobody: the answer says so, which tells nothing about who exists, but only after the
 * same work, and the try counts like any other. Only once the password is right does the
 * account's state speak (unconfirmed, awaiting proofing, suspended, revoked), and an expired
 * password leads to a new one before anything else.
 */
export function identify(attempts: AttemptStore, clockNow: () => number): StepDefinition<LoginData, Input, PasswordCheck> {
  const subject = (tenant: Tenant, input: Input, ip: string | null | undefined) => ({
    tenantId: tenant.id,
    identifier: attemptIdentifier(tenant, input.identifier),
    ip: ip ?? "unknown",
  });
  return {
    name: "identify",
    input: Input,

    fields({ tenant, t }) {
      return [
        { name: "identifier", type: "text", required: true, label: t(`login.identifier.${tenant.policy.identifier}`), autocomplete: IDENTIFIER_AUTOCOMPLETE[tenant.policy.identifier] },
        { name: "password", type: "password", required: true, label: t("login.password"), autocomplete: "current-password" },
      ];
    },

    async gate(ctx, input) {
      const gate = await beginAttempt(attempts, ctx.tenant.policy.lockout, subject(ctx.tenant, input, ctx.by.ip), clockNow());
      if (gate.allowed) return null;
      return [{ field: "password", code: "locked", message: translator(ctx.locale)(gate.reason, gate.params), params: gate.params }];
    },

    prepare: (ctx, input) => checkPassword(ctx.deps, ctx.tenant, input),

    async handle(ctx, input, check) {
      const t = translator(ctx.locale);
      const confirmed = await confirmPassword(ctx.deps, ctx.tenant, check);
      if (normalizeIdentifier(ctx.tenant.policy.identifier, input.identifier) === null) {
        return { type: "reject", errors: [{ field: "identifier", code: "invalid_identifier", message: t(`login.identifier_invalid.${ctx.tenant.policy.identifier}`) }] };
      }
      if (!confirmed) {
        return { type: "reject", errors: [{ field: "password", code: "invalid_credentials", message: t("login.invalid_credentials") }] };
      }
      const { account, verdict } = confirmed;
      const block = stateBlock(account.state);
      if (block) {
        return { type: "reject", errors: [{ field: "identifier", code: block.replace("account.", ""), message: t(block) }], data: {} };
      }
      if (verdict.expired || verdict.mustChange) {
        return {
          type: "advance",
          to: "password_change",
          accountId: account.id,
          data: { passwordChange: verdict.expired ? "expired" : "must_change" },
          notice: { code: verdict.expired ? "password_expired" : "login.password_must_change" },
        };
      }
      return afterPassword(ctx, account, relyingPartyOf(ctx.tenant, ctx.tenantUrl), "in this step");
    },

    async settle(ctx, input, outcome) {
      const who = subject(ctx.tenant, input, ctx.by.ip);
      const wrong = outcome.type === "reject" && outcome.errors.some((e) => WRONG.has(e.code));
      if (wrong) await attemptFailed(attempts, ctx.tenant.policy.lockout, who, clockNow());
      else await attemptSucceeded(attempts, who, clockNow());
    },

    withdraw: (ctx, input) => attemptWithdrawn(attempts, subject(ctx.tenant, input, ctx.by.ip), clockNow()),
  };
}

/** The answers that count as a failed try. */
const WRONG = new Set(["invalid_credentials", "invalid_identifier"]);
