import { findAccount } from "../../../identity/accounts.ts";
import type { StepDefinition } from "../../flow.ts";
import { checkCode, CodeInput, codeFields, sendCode } from "../codes.ts";
import type { ActivationData } from "../data.ts";

/**
 * Step 2 (seed 002: "Recepción de SMS de registro … u OTP MAIL … para continuar"): opening the
 * e-mailed link proves the e-mail address and sends a code to the mobile the request gave (else to
 * the e-mail address); the code moves the activation on. A new code may be asked for, by the other
 * channel too.
 */
export const enterCode: StepDefinition<ActivationData, CodeInput> = {
  name: "code",
  input: CodeInput,

  async fields(view) {
    return codeFields(view, await findAccount(view.deps, view.tenant, view.flow.accountId!));
  },

  async handle(ctx, input) {
    const { deps, tenant, flow } = ctx;
    const account = (await findAccount(deps, tenant, flow.accountId!))!;
    if (input.send) {
      if (!flow.data.opened && account.emailVerifiedAt === null) {
        // The link came by e-mail: whoever opens it reads that mailbox.
        await deps.repos.accounts.update(tenant.id, account.id, { email_verified_at: deps.clock.now(), updated_at: deps.clock.now() });
      }
      const sent = await sendCode(ctx, account, "code", input.channel ?? flow.data.channel);
      return sent.type === "stay" ? { ...sent, data: { ...sent.data, opened: true } } : sent;
    }
    const checked = await checkCode(ctx, account, "code", input.code);
    return "ok" in checked ? { type: "advance", to: "identity" } : checked;
  },
};
