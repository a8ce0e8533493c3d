import { findAccount, stateBlock } from "../../../identity/accounts.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { enqueueMessage } from "../../../messaging/outbox.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import { issueMembershipCertificates } from "../../professionals/certificates.ts";
import type { StepDefinition } from "../../flow.ts";
import { checkCode, CodeInput, codeFields, sendCode } from "../codes.ts";
import type { ActivationData } from "../data.ts";

/**
 * Step 6 (seed 002: "Recepción SMS u OTP MAIL de autenticación y fin del proceso de emisión y
 * activación"): the last code. With it the identity is active, its sign-in codes go where these
 * went ("según lo tenga configurado"), and each authorised organisation's certificate is issued,
 * all in the step's transaction; the holder gets the list by e-mail.
 */
export function finalCode(outside: { pki: PkiRuntime }): StepDefinition<ActivationData, CodeInput> {
  return {
    name: "final_code",
    input: CodeInput,

    async fields(view) {
      return codeFields(view, await findAccount(view.deps, view.tenant, view.flow.accountId!));
    },

    async handle(ctx, input) {
      const { deps, tenant, flow } = ctx;
      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      if (input.send) return sendCode(ctx, account, "final_code", input.channel ?? flow.data.channel);
      const checked = await checkCode(ctx, account, "final_code", input.code);
      if (!("ok" in checked)) return checked;

      // Suspended or revoked since the authorisation: no identity, no certificates.
      const block = account.state === "activating" ? null : stateBlock(account.state);
      if (block) return { type: "reject", errors: [{ field: "code", code: block, message: translator(ctx.locale)(block) }] };
      const now = deps.clock.now();
      await deps.repos.accounts.update(tenant.id, account.id, {
        ...(account.state === "activating" ? { state: "active" } : {}),
        ...(account.preferredFactor === null ? { preferred_factor: flow.data.channel } : {}),
        updated_at: now,
      });
      const active = (await findAccount(deps, tenant, account.id))!;
      const issued = await issueMembershipCertificates({ ...deps, pki: outside.pki }, tenant, ctx.tenantUrl, active, ctx.by);
      const certificates = issued.map((i) => ({ organization: i.organization.name, serial: i.certificate.serial, subject: i.certificate.subject }));
      if (active.email) {
        await enqueueMessage(deps, {
          tenant,
          channel: "email",
          to: active.email,
          template: "professional_activated",
          locale: active.locale ?? ctx.locale,
          params: {
            name: `${active.givenName ?? ""} ${active.familyName ?? ""}`.trim(),
            certificates: certificates.map((c) => `- ${c.organization}: ${c.subject} (${c.serial})`).join("\n"),
            account_url: `${ctx.tenantUrl}/account`,
          },
        });
      }
      return { type: "finish", state: "complete", data: { issued: certificates, sentTo: undefined } };
    },
  };
}
