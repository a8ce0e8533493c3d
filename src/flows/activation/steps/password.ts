import { z } from "zod";
import { type Account, credentialOwner, findAccount } from "../../../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded } from "../../../identity/brute-force.ts";
import { checkNewPassword, type PasswordVerdict, setPassword, verifyPassword } from "../../../identity/password/service.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { StepDefinition } from "../../flow.ts";
import { newPasswordField, passwordIssues } from "../../password-fields.ts";
import type { ActivationData } from "../data.ts";
import { activationGate, activationSubject } from "./identity.ts";

const Input = z.object({ password: z.string().max(256) });
type Input = z.infer<typeof Input>;

/** An active professional adding an organisation already has the password: they confirm it rather than choose one. */
const confirms = (account: Account) => account.state === "active";

/**
 * Step 4 (seed 002: "Generación de la contraseña para su uso en la identificación y firma"): the
 * password under the tenant's policy, checked against the holder's own data. A professional who is
 * already active (a new organisation's certificate) types the password they have, and wrong tries
 * count like a sign-in's. The argon2id work runs before the transaction.
 */
export function choosePassword(attempts: AttemptStore, clockNow: () => number): StepDefinition<ActivationData, Input, PasswordVerdict> {
  return {
    name: "password",
    input: Input,

    async fields({ tenant, flow, t, deps }) {
      const account = await findAccount(deps, tenant, flow.accountId!);
      return account && confirms(account)
        ? [{ name: "password", type: "password", required: true, label: t("activation.field.current_password"), autocomplete: "current-password" }]
        : [newPasswordField(tenant, t, t("activation.field.password"))];
    },

    gate: activationGate(attempts, clockNow, "password"),

    async prepare(ctx, input) {
      return verifyPassword(ctx.deps, ctx.tenant, await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!), input.password);
    },

    async handle(ctx, input, verdict) {
      const { deps, tenant, flow } = ctx;
      const t = translator(ctx.locale);
      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      // Still the password that was checked: it may have changed since, on another node.
      const current = verdict.ok && (await deps.repos.accounts.password(credentialOwner(account)))?.hash === verdict.hash;
      if (confirms(account)) {
        if (!current) return { type: "reject", errors: [{ field: "password", code: "invalid_credentials", message: t("activation.wrong_password") }] };
        return { type: "advance", to: "terms" };
      }
      // The same password again (an activation begun before and opened anew) stands as it is.
      if (current) return { type: "advance", to: "terms" };
      const failures = await checkNewPassword(deps, tenant, account, input.password);
      if (failures.length > 0) return { type: "reject", errors: passwordIssues(failures) };
      await setPassword(deps, tenant, account, input.password, ctx.by);
      return { type: "advance", to: "terms" };
    },

    async settle(ctx, _input, outcome) {
      const who = activationSubject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip);
      // Only a wrong current password was a guess; a new one that breaks a rule gives its booking back.
      if (outcome.type === "reject" && outcome.errors.some((e) => e.code === "invalid_credentials")) await attemptFailed(attempts, ctx.tenant.policy.lockout, who, clockNow());
      else await attemptSucceeded(attempts, who);
    },
  };
}
