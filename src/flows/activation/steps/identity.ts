import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded, attemptWithdrawn, beginAttempt } from "../../../identity/brute-force.ts";
import { dayOf, isCalendarDate } from "../../../shared/i18n/dates.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import type { StepContext, StepDefinition } from "../../flow.ts";
import type { ActivationData } from "../data.ts";

const Input = z.object({ document_expiry_date: z.string().trim().max(10) });
type Input = z.infer<typeof Input>;

/** The brute-force counter of an activation's answers: per account, like a sign-in's. */
export const activationSubject = (tenantId: string, accountId: string, ip: string | null | undefined) => ({ tenantId, identifier: `activation:${accountId}`, ip: ip ?? "unknown" });

/** The gate of a step whose wrong answers count (the DNI's expiry, the password): waits and locks as at sign-in. */
export function activationGate(attempts: AttemptStore, clockNow: () => number, field: string) {
  return async (ctx: Omit<StepContext<ActivationData>, "deps">): Promise<FieldIssue[] | null> => {
    const gate = await beginAttempt(attempts, ctx.tenant.policy.lockout, activationSubject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip), clockNow());
    if (gate.allowed) return null;
    // "Wrong credentials" is the sign-in's word for it; here it was an answer.
    const reason = gate.reason === "account.delayed" ? "activation.delayed" : gate.reason;
    return [{ field, code: "locked", message: translator(ctx.locale)(reason, gate.params), params: gate.params }];
  };
}

/** What an activation step whose gate booked an attempt gives back when it ends with no outcome. */
export function activationWithdraw(attempts: AttemptStore, clockNow: () => number) {
  return (ctx: Omit<StepContext<ActivationData>, "deps">) => attemptWithdrawn(attempts, activationSubject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip), clockNow());
}

/**
 * Step 3 (seed 002: "Comprobación de identidad: se solicita la fecha de caducidad del DNI"): the
 * expiry date of the DNI, as the desk officer or the applicant recorded it with the request. Wrong
 * answers count like wrong passwords (delays, then a lock); a DNI that has expired since stops the
 * activation until it is renewed.
 */
export function checkIdentity(attempts: AttemptStore, clockNow: () => number): StepDefinition<ActivationData, Input> {
  return {
    name: "identity",
    input: Input,

    fields({ t }) {
      return [{ name: "document_expiry_date", type: "date", required: true, label: t("activation.field.dni_expiry"), hint: t("activation.field.dni_expiry.hint") }];
    },

    // Something that is not a date at all is no guess: it is refused without counting.
    gate: (ctx, input) => (isCalendarDate(input.document_expiry_date) ? activationGate(attempts, clockNow, "document_expiry_date")(ctx) : Promise.resolve(null)),

    async handle(ctx, input) {
      const { deps, tenant, flow } = ctx;
      const t = translator(ctx.locale);
      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      const refuse = (code: "enrol.invalid_date" | "professionals.dni_expired" | "activation.wrong_expiry") => ({
        type: "reject" as const,
        errors: [{ field: "document_expiry_date", code, message: t(code) }],
      });
      if (!isCalendarDate(input.document_expiry_date)) return refuse("enrol.invalid_date");
      // The date recorded with the newest request (a professional back for another organisation
      // may have renewed their DNI since the first), else the account's.
      const newest = (await deps.repos.professionals.membershipsOfAccount(tenant.id, account.id)).filter((m) => m.state === "authorised").sort((a, b) => b.created_at - a.created_at)[0];
      const expected = newest?.document_expiry_date ?? account.documentExpiryDate;
      if (!expected || expected < dayOf(deps.clock.now(), tenant.policy.timeZone)) return refuse("professionals.dni_expired");
      if (input.document_expiry_date !== expected) return refuse("activation.wrong_expiry");
      if (expected !== account.documentExpiryDate) await deps.repos.accounts.update(tenant.id, account.id, { document_expiry_date: expected, updated_at: deps.clock.now() });
      return { type: "advance", to: "password" };
    },

    async settle(ctx, input, outcome) {
      if (!isCalendarDate(input.document_expiry_date)) return;
      const who = activationSubject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip);
      if (outcome.type === "reject" && outcome.errors.some((e) => e.code === "activation.wrong_expiry")) await attemptFailed(attempts, ctx.tenant.policy.lockout, who, clockNow());
      else if (outcome.type !== "reject") await attemptSucceeded(attempts, who, clockNow());
    },

    async withdraw(ctx, input) {
      if (isCalendarDate(input.document_expiry_date)) await activationWithdraw(attempts, clockNow)(ctx);
    },
  };
}
