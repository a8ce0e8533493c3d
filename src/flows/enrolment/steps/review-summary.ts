import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { recordConsent } from "../../../identity/consents.ts";
import { openCase } from "../../proofing/cases.ts";
import { enqueueMessage } from "../../../messaging/outbox.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { StepDefinition } from "../../flow.ts";
import { checkbox, type EnrolmentData } from "../data.ts";
import { nextSteps } from "../next-steps.ts";

/**
 * Step 7: everything entered, for a last look (personal data can be corrected from here), and the
 * contract, whose acceptance is recorded with its version and time. Submitting ends the flow in
 * `awaiting_proofing` with a proofing case opened for the method chosen; what to do next depends on
 * the method and is shown on screen and sent by e-mail.
 */
export const reviewSummary: StepDefinition<EnrolmentData, { contract_accepted?: boolean | undefined }> = {
  name: "summary",
  input: z.object({ contract_accepted: checkbox.optional() }),

  fields({ t }) {
    return [{ name: "contract_accepted", type: "checkbox", required: true, label: t("enrol.field.contract_accepted") }];
  },

  async handle(ctx, input) {
    const { deps, tenant, flow } = ctx;
    if (input.contract_accepted !== true) {
      return { type: "reject", errors: [{ field: "contract_accepted", code: "enrol.contract_required", message: "accept the contract" }] };
    }
    const policy = tenant.policy.enrolment!;
    const account = (await findAccount(deps, tenant, flow.accountId!))!;
    await recordConsent(deps, tenant, account, { purpose: "contract", version: policy.versions.contract, granted: true }, ctx.by);
    await deps.repos.accounts.update(tenant.id, account.id, { state: "awaiting_proofing", updated_at: deps.clock.now() });
    // The identity is verified by the method chosen at the start: its case waits for it.
    await openCase(deps, tenant, account, { request: requestNumber(flow.id), method: flow.data.method!, point: flow.data.point ?? null }, ctx.by);
    const locale = account.locale ?? ctx.locale;
    await enqueueMessage(deps, {
      tenant,
      channel: "email",
      to: account.email!,
      template: "enrolment_submitted",
      locale,
      params: {
        name: account.givenName ?? account.identifier,
        request: requestNumber(flow.id),
        next_steps: nextSteps(tenant, flow.data, translator(locale), requestNumber(flow.id)),
        status_url: `${ctx.tenantUrl}/enrol/${flow.id}`,
      },
    });
    return { type: "finish", state: "awaiting_proofing" };
  },
};

/** A short reference users can quote (support, registration point): from the flow id. */
export function requestNumber(flowId: string): string {
  return Buffer.from(flowId, "base64url").toString("hex").slice(0, 10).toUpperCase();
}
