import { z } from "zod";
import { type Account, credentialOwner, findAccount } from "../../../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded } from "../../../identity/brute-force.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import type { PkiKeyRow } from "../../../store/repos/pki.ts";
import { discardKeys, type PreparedKey, prepareMembershipKeys, recordMembershipKeys } from "../../professionals/certificates.ts";
import { checkNewPassword, type PasswordVerdict, setPassword, verifyPassword } from "../../../identity/password/service.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { StepDefinition } from "../../flow.ts";
import { newPasswordField, passwordIssues } from "../../password-fields.ts";
import type { ActivationData } from "../data.ts";
import { activationGate, activationSubject, activationWithdraw } from "./identity.ts";

const Input = z.object({ password: z.string().max(256) });
type Input = z.infer<typeof Input>;

/** The password checked, and the keys made for the authorised memberships (none for a wrong current password). */
interface Prepared {
  verdict: PasswordVerdict;
  keys: PreparedKey[];
  replacing: PkiKeyRow[];
}

/** An active professional adding an organisation already has the password: they confirm it rather than choose one. */
const confirms = (account: Account) => account.state === "active";

/**
 * Step 4 (seed 002: "Generación de la contraseña para su uso en la identificación y firma"): the
 * password under the tenant's policy, checked against the holder's own data. A professional who is
 * already active (a new organisation's certificate) types the password they have, and wrong tries
 * count like a sign-in's. The signing key of each authorised organisation is made here too, under
 * this password (sole control: pki/sole-control.ts); the certificates are issued for them at step 6. The argon2id work and the keys are made before the
 * transaction; keys it did not keep are destroyed after it.
 */
export function choosePassword(outside: { attempts: AttemptStore; clockNow: () => number; pki: PkiRuntime }): StepDefinition<ActivationData, Input, Prepared> {
  const { attempts, clockNow } = outside;
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
      const account = await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!);
      const verdict = await verifyPassword(ctx.deps, ctx.tenant, account, input.password);
      if (account && confirms(account) && !verdict.ok) return { verdict, keys: [], replacing: [] };
      return { verdict, ...(await prepareMembershipKeys({ ...ctx.deps, pki: outside.pki }, ctx.tenant, ctx.flow.accountId!, input.password)) };
    },

    async handle(ctx, input, { verdict, keys }) {
      const { deps, tenant, flow } = ctx;
      const t = translator(ctx.locale);
      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      // Still the password that was checked: it may have changed since, on another node.
      const current = verdict.ok && (await deps.repos.accounts.password(credentialOwner(account)))?.hash === verdict.hash;
      const keep = () => recordMembershipKeys({ ...deps, pki: outside.pki }, tenant, keys);
      if (confirms(account)) {
        if (!current) return { type: "reject", errors: [{ field: "password", code: "invalid_credentials", message: t("activation.wrong_password") }] };
        await keep();
        return { type: "advance", to: "terms" };
      }
      // The same password again (an activation begun before and opened anew) stands as it is.
      if (!current) {
        const failures = await checkNewPassword(deps, tenant, account, input.password);
        if (failures.length > 0) return { type: "reject", errors: passwordIssues(failures) };
        await setPassword(deps, tenant, account, input.password, ctx.by);
      }
      await keep();
      return { type: "advance", to: "terms" };
    },

    async settle(ctx, _input, outcome, { keys, replacing }) {
      await discardKeys(outside.pki, ctx.tenant, outcome.type === "reject" ? keys.map((k) => k.key) : replacing);
      const who = activationSubject(ctx.tenant.id, ctx.flow.accountId!, ctx.by.ip);
      // Only a wrong current password was a guess; a new one that breaks a rule gives its booking back.
      if (outcome.type === "reject" && outcome.errors.some((e) => e.code === "invalid_credentials")) await attemptFailed(attempts, ctx.tenant.policy.lockout, who, clockNow());
      else await attemptSucceeded(attempts, who, clockNow());
    },

    withdraw: activationWithdraw(attempts, clockNow),
  };
}
