import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { recordConsent } from "../../../identity/consents.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { checkbox } from "../../enrolment/data.ts";
import { type StepDefinition, StepRejection } from "../../flow.ts";
import { sendCode } from "../codes.ts";
import type { ActivationData } from "../data.ts";

const Input = z.object({ accept: checkbox.optional() });
type Input = z.infer<typeof Input>;

/**
 * Step 5 (seed 002: "Aceptación de términos y condiciones de uso"): the terms of use of the
 * identity and its certificates, recorded with their version (the subscriber agreement of ETSI
 * EN 319 411-1 §6.3.4). Then the last code goes out.
 */
export const acceptTerms: StepDefinition<ActivationData, Input> = {
  name: "terms",
  input: Input,

  fields({ tenant, t }) {
    return [{ name: "accept", type: "checkbox", required: true, label: t("activation.field.accept_terms", { version: tenant.policy.professionals.termsVersion }) }];
  },

  async handle(ctx, input) {
    const { deps, tenant, flow } = ctx;
    if (input.accept !== true) {
      return { type: "reject", errors: [{ field: "accept", code: "activation.terms_required", message: translator(ctx.locale)("activation.terms_required") }] };
    }
    const account = (await findAccount(deps, tenant, flow.accountId!))!;
    await recordConsent(deps, tenant, account, { purpose: "terms", version: tenant.policy.professionals.termsVersion, granted: true }, ctx.by);
    const sent = await sendCode(ctx, account, "final_code", flow.data.channel, { to: "final_code" });
    // No code could go out (the send limits): the acceptance is not kept either; the step is to be done again.
    if (sent.type === "reject") throw new StepRejection(sent.errors);
    return sent;
  },
};
