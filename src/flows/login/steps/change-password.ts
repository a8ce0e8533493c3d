import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { relyingPartyOf } from "../../../identity/passkeys.ts";
import { checkNewPassword, setPassword } from "../../../identity/password/service.ts";
import type { StepDefinition } from "../../flow.ts";
import { newPasswordField, passwordIssues } from "../../password-fields.ts";
import type { LoginData } from "../data.ts";
import { afterPassword } from "../finish.ts";

/**
 * A password that has expired (180 days for SPID) or that must be changed is replaced, under the
 * full policy (history included), before the sign-in goes on.
 */
export const changeExpiredPassword: StepDefinition<LoginData, { password: string }> = {
  name: "password_change",
  input: z.object({ password: z.string().min(1).max(256) }),

  fields({ tenant, t }) {
    return [newPasswordField(tenant, t)];
  },

  async handle(ctx, input) {
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const failures = await checkNewPassword(ctx.deps, ctx.tenant, account, input.password);
    if (failures.length > 0) return { type: "reject", errors: passwordIssues(failures) };
    await setPassword(ctx.deps, ctx.tenant, account, input.password, { ...ctx.by, actor: `account:${account.id}` });
    return afterPassword(ctx, account, relyingPartyOf(ctx.tenant, ctx.tenantUrl));
  },
};
