import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { relyingPartyOf } from "../../../identity/passkeys.ts";
import { checkNewPassword, setPassword } from "../../../identity/password/service.ts";
import type { StepDefinition } from "../../flow.ts";
import { newPasswordField, passwordIssues } from "../../password-fields.ts";
import type { LoginData } from "../data.ts";
import { afterFirstFactor } from "../finish.ts";

/**
 * After a first sign-in through SPID/CIE, the new account's codice persona is shown and its
 * holder chooses a password under the tenant's policy (seed 001: "ti verrà assegnato un codice
 * persona e dovrai inserire una password a tua scelta"); then the sign-in goes on.
 */
export const chooseFirstPassword: StepDefinition<LoginData, { password: string }> = {
  name: "first_password",
  input: z.object({ password: z.string().min(1).max(256) }),

  fields({ tenant, t }) {
    return [newPasswordField(tenant, t, t("register.field.password"))];
  },

  async handle(ctx, input) {
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const failures = await checkNewPassword(ctx.deps, ctx.tenant, account, input.password);
    if (failures.length > 0) return { type: "reject", errors: passwordIssues(failures) };
    await setPassword(ctx.deps, ctx.tenant, account, input.password, { ...ctx.by, actor: `account:${account.id}` });
    return afterFirstFactor(ctx, account, relyingPartyOf(ctx.tenant, ctx.tenantUrl), ctx.flow.data.firstFactor ?? []);
  },
};
