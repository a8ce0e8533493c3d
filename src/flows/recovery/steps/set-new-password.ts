import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import type { AttemptStore } from "../../../identity/brute-force.ts";
import { attemptSucceeded } from "../../../identity/brute-force.ts";
import { checkNewPassword, setPassword } from "../../../identity/password/service.ts";
import { revokeAllSessions } from "../../../identity/sessions.ts";
import { enqueueMessage } from "../../../messaging/outbox.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import type { StepDefinition } from "../../flow.ts";
import { type Reissue, reissueOnReset } from "../../professionals/credentials.ts";
import { newPasswordField, passwordIssues } from "../../password-fields.ts";
import type { RecoveryData } from "../data.ts";
import { formatDate } from "../../../shared/i18n/dates.ts";

/**
 * The new password, under the full policy. Then every session of the account ends, the holder is
 * told by e-mail, and a sign-in lock on the identifier is lifted: whoever proved two factors may
 * sign in again at once.
 */
export function setNewPassword(outside: { attempts: AttemptStore; clockNow: () => number; pki: PkiRuntime }): StepDefinition<RecoveryData, { password: string }, Reissue> {
  const { attempts } = outside;
  const keys = reissueOnReset(outside.pki);
  return {
    name: "new_password",
    input: z.object({ password: z.string().min(1).max(256) }),

    fields({ tenant, t }) {
      return [newPasswordField(tenant, t)];
    },

    // A professional's signing keys were under the old password: new ones under this one (docs/signing.md).
    prepare: (ctx, input) => keys.prepare(ctx.deps, ctx.tenant, ctx.flow.accountId!, input.password),

    async handle(ctx, input, reissue) {
      const { deps, tenant } = ctx;
      const account = (await findAccount(deps, tenant, ctx.flow.accountId!))!;
      const failures = await checkNewPassword(deps, tenant, account, input.password);
      if (failures.length > 0) return { type: "reject", errors: passwordIssues(failures) };
      const by = { ...ctx.by, actor: `account:${account.id}` };
      await setPassword(deps, tenant, account, input.password, by);
      await keys.record(deps, tenant, ctx.tenantUrl, account, reissue, by);
      await revokeAllSessions(deps, tenant, account, by);
      if (account.email) {
        const locale = account.locale ?? tenant.defaultLocale;
        await enqueueMessage(deps, {
          tenant,
          channel: "email",
          to: account.email,
          template: "password_reset",
          locale,
          params: { date: formatDate(deps.clock.now(), locale, tenant.policy.timeZone, "dateTime") },
        });
      }
      return { type: "finish", state: "complete", notice: { code: "recovery.done" } };
    },

    async settle(ctx, _input, outcome, reissue) {
      await keys.settle(ctx.tenant, outcome.type === "reject", reissue);
      if (outcome.type === "finish" && ctx.flow.data.identifier) {
        await attemptSucceeded(attempts, { tenantId: ctx.tenant.id, identifier: ctx.flow.data.identifier, ip: ctx.by.ip ?? "unknown" }, outside.clockNow());
      }
    },
  };
}
