import { newPasswordField } from "../../password-fields.ts";
import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { checkNewPassword, setPassword } from "../../../identity/password/service.ts";
import type { StepDefinition } from "../../flow.ts";
import { confirmEmail } from "./set-credentials.ts";
import { type EnrolmentData, sealContext } from "../data.ts";

/**
 * A new password, when the one in hand cannot stay: a shop password below the identity policy
 * (before anything else, seed 000), or a password that turned out to contain the personal data
 * entered later. For a linked shop account the change applies to both: they share one password.
 */
export const changePassword: StepDefinition<EnrolmentData, { password: string }> = {
  name: "password_change",
  input: z.object({ password: z.string().min(1).max(256) }),

  fields({ tenant, t }) {
    return [newPasswordField(tenant, t)];
  },

  async handle(ctx, input) {
    const { deps, tenant, flow } = ctx;
    const account = (await findAccount(deps, tenant, flow.accountId!))!;
    const personal = flow.data.personal ? personalOf(flow.data.personal) : {};
    const failures = await checkNewPassword(deps, tenant, account, input.password, personal);
    if (failures.length > 0) {
      return { type: "reject", errors: failures.map((f) => ({ field: "password", code: f.rule, message: f.rule, params: f.params })) };
    }
    await setPassword(deps, tenant, account, input.password, ctx.by, { personal });
    if (flow.data.passwordChange === "personal_data") {
      // The personal data were checked already: the password is all that was missing.
      return { type: "advance", to: "summary", data: { passwordChange: undefined, sealedPassword: undefined } };
    }
    return confirmEmail(ctx, account, { sealedPassword: deps.secrets.seal(input.password, sealContext(flow.id)) });
  },
};

/** The personal data entered so far, as the password rules read them. */
export function personalOf(p: Record<string, string>) {
  return {
    givenName: p.given_name ?? null,
    familyName: p.family_name ?? null,
    fiscalCode: p.fiscal_code ?? null,
    birthDate: p.birth_date ?? null,
    documentNumber: p.document_number ?? null,
  };
}
