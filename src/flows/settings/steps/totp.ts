import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { beginTotpEnrolment, confirmTotpEnrolment, pendingTotpEnrolment } from "../../../identity/totp.ts";
import { totpCodeField } from "../../totp-field.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { codeIssue } from "../../code-issue.ts";
import type { StepDefinition } from "../../flow.ts";
import type { SettingsData } from "../data.ts";

/** Adding an authenticator app, part 1: a new secret. */
export const startTotp: StepDefinition<SettingsData, Record<string, never>> = {
  name: "totp",
  input: z.object({}),
  automatic: true,
  fields() {
    return [];
  },
  async handle(ctx) {
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const enrolment = await beginTotpEnrolment(ctx.deps, ctx.tenant, account);
    return { type: "advance", to: "totp_confirm", data: { factorId: enrolment.factorId } };
  },
};

/**
 * Part 2: the QR code (drawn here from the sealed secret, never stored in the flow) and the
 * secret as text; the first code from the app confirms it.
 */
export const confirmTotp: StepDefinition<SettingsData, { code: string }> = {
  name: "totp_confirm",
  input: z.object({ code: z.string().min(1).max(20) }),
  async fields({ tenant, flow, t, deps }) {
    const account = await findAccount(deps, tenant, flow.accountId!);
    const pending = account && flow.data.factorId ? await pendingTotpEnrolment(deps, tenant, account, flow.data.factorId) : undefined;
    return [totpCodeField(t, pending)];
  },
  async handle(ctx, input) {
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const done = await confirmTotpEnrolment(ctx.deps, ctx.tenant, account, ctx.flow.data.factorId!, input.code, ctx.by);
    if (!done.ok) return { type: "reject", errors: [codeIssue(translator(ctx.locale), done)] };
    return { type: "finish", state: "complete", notice: { code: "account.totp.added" } };
  },
};
