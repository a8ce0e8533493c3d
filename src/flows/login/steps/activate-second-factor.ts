import { z } from "zod";
import { type Account, findAccount } from "../../../identity/accounts.ts";
import type { IdentityDeps } from "../../../identity/deps.ts";
import { hasDeclared, MAX_DECLARATION_LENGTH, MIN_DECLARATION_LENGTH, recordDeclaration } from "../../../identity/declarations.ts";
import { beginTotpEnrolment } from "../../../identity/totp.ts";
import type { FieldSpec, StepDefinition } from "../../flow.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { text } from "../../enrolment/data.ts";
import type { LoginData } from "../data.ts";

const Input = z.object({
  citizenship: z.enum(["italian", "other"]).optional(),
  choice: z.enum(["totp", "declare"]).optional(),
  declaration: text(MAX_DECLARATION_LENGTH),
});
type Input = z.infer<typeof Input>;

/** The ways a holder may activate 2FA (seed 001), by citizenship; `upstream` goes through the SPID/CIE buttons. */
export type Activation = "upstream" | "declare" | "totp";

export async function activationsFor(deps: IdentityDeps, account: Account): Promise<Activation[]> {
  if (account.citizenship === "italian") return (await hasDeclared(deps, account)) ? ["upstream"] : ["upstream", "declare"];
  if (account.citizenship === "other") return ["totp", "upstream"];
  return [];
}

/**
 * "Ti verrà chiesto di attivare l'autenticazione a due fattori" (seed 001), by the flowchart:
 * first "Hai la cittadinanza italiana?" when the account does not say; then an Italian citizen
 * activates 2FA with SPID/CIE, or declares they cannot use them ("Dichiara e prosegui senza
 * SPID/CIE", once) and gets a temporary authenticator app; anyone else chooses between the app
 * and SPID/CIE. The app is set up at the next step; SPID/CIE at the upstream step.
 */
export const activateSecondFactor: StepDefinition<LoginData, Input> = {
  name: "activate_2fa",
  input: Input,

  async fields({ tenant, flow, t, deps }) {
    const account = await findAccount(deps, tenant, flow.accountId!);
    if (!account) return [];
    if (account.citizenship === null) {
      return [{ name: "citizenship", type: "radio", required: true, label: t("register.field.citizenship"), options: [{ value: "italian", label: t("register.citizenship.italian") }, { value: "other", label: t("register.citizenship.other") }] }];
    }
    const ways = await activationsFor(deps, account);
    const fields: FieldSpec[] = [
      { name: "choice", type: "radio", required: true, label: t("login.activate_2fa.intro"), options: ways.map((w) => ({ value: w, label: t(w === "upstream" ? "login.activate_2fa.upstream" : w === "declare" ? "login.activate_2fa.declare" : "login.activate_2fa.app") })) },
    ];
    if (ways.includes("declare")) fields.push({ name: "declaration", type: "textarea", required: false, label: t("login.activate_2fa.declaration"), hint: t("login.activate_2fa.declaration.hint", { days: tenant.policy.twoFactor.declarationDays }) });
    return fields;
  },

  async handle(ctx, input) {
    const t = translator(ctx.locale);
    const { deps, tenant } = ctx;
    let account = (await findAccount(deps, tenant, ctx.flow.accountId!))!;
    if (account.citizenship === null) {
      if (!input.citizenship) return { type: "reject", errors: [{ field: "citizenship", code: "enrol.required", message: t("enrol.required") }] };
      await deps.repos.accounts.update(tenant.id, account.id, { citizenship: input.citizenship, updated_at: deps.clock.now() });
      account = { ...account, citizenship: input.citizenship };
      if (!input.choice) return { type: "stay" };
    }
    const ways = await activationsFor(deps, account);
    if (!input.choice || !ways.includes(input.choice)) return { type: "reject", errors: [{ field: "choice", code: "activate_2fa.not_offered", message: t("login.activate_2fa.not_offered") }] };
    let expiresAt: number | undefined;
    if (input.choice === "declare") {
      if (!input.declaration || [...input.declaration].length < MIN_DECLARATION_LENGTH) {
        return { type: "reject", errors: [{ field: "declaration", code: "declaration.required", message: t("login.declaration.required") }] };
      }
      expiresAt = await recordDeclaration(deps, tenant, account, input.declaration, ctx.by);
    }
    const enrolment = await beginTotpEnrolment(deps, tenant, account, expiresAt !== undefined ? { expiresAt } : {});
    return { type: "advance", to: "totp_setup", data: { totp: { factorId: enrolment.factorId, ...(expiresAt !== undefined ? { expiresAt } : {}) } } };
  },
};
