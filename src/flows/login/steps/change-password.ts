import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { relyingPartyOf } from "../../../identity/passkeys.ts";
import { checkNewPassword, setPassword } from "../../../identity/password/service.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import type { StepDefinition } from "../../flow.ts";
import { type Reissue, reissueOnReset } from "../../professionals/credentials.ts";
import { newPasswordField, passwordIssues } from "../../password-fields.ts";
import type { LoginData } from "../data.ts";
import { afterPassword } from "../finish.ts";

/**
 * A password that has expired (180 days for SPID) or that must be changed is replaced, under the
 * full policy (history included), before the sign-in goes on.
 */
export function changeExpiredPassword(outside: { pki: PkiRuntime }): StepDefinition<LoginData, { password: string }, Reissue> {
  const keys = reissueOnReset(outside.pki);
  return {
    name: "password_change",
    input: z.object({ password: z.string().min(1).max(256) }),

    fields({ tenant, t }) {
      return [newPasswordField(tenant, t)];
    },

    // The old password is not asked again here: signing keys under it are re-issued under this one.
    prepare: (ctx, input) => keys.prepare(ctx.deps, ctx.tenant, ctx.flow.accountId!, input.password),

    async handle(ctx, input, reissue) {
      const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
      const failures = await checkNewPassword(ctx.deps, ctx.tenant, account, input.password);
      if (failures.length > 0) return { type: "reject", errors: passwordIssues(failures) };
      const by = { ...ctx.by, actor: `account:${account.id}` };
      await setPassword(ctx.deps, ctx.tenant, account, input.password, by);
      await keys.record(ctx.deps, ctx.tenant, ctx.tenantUrl, account, reissue, by);
      return afterPassword(ctx, account, relyingPartyOf(ctx.tenant, ctx.tenantUrl));
    },

    settle: (ctx, _input, outcome, reissue) => keys.settle(ctx.tenant, outcome.type === "reject", reissue),
  };
}
