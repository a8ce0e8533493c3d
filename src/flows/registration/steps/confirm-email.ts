import { findAccount } from "../../../identity/accounts.ts";
import { enqueueMessage } from "../../../messaging/outbox.ts";
import { codeStep } from "../../code-step.ts";
import { emailConfirmationPurpose, sendEmailConfirmation } from "../../email-confirmation.ts";
import { REGISTRATION_PAGES, type RegistrationData } from "../data.ts";

/**
 * The code (or link) from the confirmation e-mail proves the mailbox: the account is active, and
 * its codice persona is shown and sent by e-mail, with the way in.
 */
export const confirmRegistrationEmail = codeStep<RegistrationData>({
  name: "email_confirmation",
  resent: "enrol.email_sent",
  purpose: emailConfirmationPurpose,
  resend: (ctx, account) =>
    sendEmailConfirmation(ctx, account, { pages: REGISTRATION_PAGES, minutes: ctx.tenant.policy.registration.emailConfirmationMinutes, template: "registration_confirmation" }),
  async confirmed(ctx, account) {
    const { deps, tenant } = ctx;
    const now = deps.clock.now();
    await deps.repos.accounts.update(tenant.id, account.id, { email_verified_at: now, state: "active", updated_at: now });
    const active = (await findAccount(deps, tenant, account.id))!;
    await enqueueMessage(deps, {
      tenant,
      channel: "email",
      to: active.email!,
      template: "registration_done",
      locale: ctx.locale,
      params: { name: active.givenName ?? "", codice_persona: active.identifier, login_url: `${ctx.tenantUrl}/login` },
    });
    return { type: "finish", state: "complete", data: { codicePersona: active.identifier, details: undefined }, notice: { code: "register.done", params: { codice_persona: active.identifier } } };
  },
});
