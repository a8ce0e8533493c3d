import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { confirmTotpEnrolment, pendingTotpEnrolment } from "../../../identity/totp.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { codeIssue } from "../../code-issue.ts";
import type { StepDefinition } from "../../flow.ts";
import { totpCodeField } from "../../totp-field.ts";
import type { LoginData } from "../data.ts";
import { signedIn } from "../finish.ts";

/**
 * The authenticator app chosen at the 2FA activation: its QR code, and the first code from it,
 * which both confirms it and is the sign-in's second factor.
 */
export const setUpTotp: StepDefinition<LoginData, { code: string }> = {
  name: "totp_setup",
  input: z.object({ code: z.string().min(1).max(20) }),

  async fields({ tenant, flow, t, deps }) {
    const account = await findAccount(deps, tenant, flow.accountId!);
    const pending = account && flow.data.totp ? await pendingTotpEnrolment(deps, tenant, account, flow.data.totp.factorId) : undefined;
    return [totpCodeField(t, pending)];
  },

  async handle(ctx, input) {
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const done = await confirmTotpEnrolment(ctx.deps, ctx.tenant, account, ctx.flow.data.totp!.factorId, input.code, { ...ctx.by, actor: `account:${account.id}` });
    if (!done.ok) return { type: "reject", errors: [codeIssue(translator(ctx.locale), done)] };
    return signedIn(ctx, account, 2, [...(ctx.flow.data.firstFactor ?? ["password"]), "totp"]);
  },
};
