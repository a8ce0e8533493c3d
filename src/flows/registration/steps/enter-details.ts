import { z } from "zod";
import type { AttemptStore } from "../../../identity/brute-force.ts";
import { createAccountWithCodicePersona } from "../../../identity/codice-persona.ts";
import { decodeCodiceFiscale, nameCode, surnameCode } from "../../../identity/codice-fiscale.ts";
import { recordConsent } from "../../../identity/consents.ts";
import { auditTaken, identifierChecks } from "../../../identity/identifier-checks.ts";
import { normalizeEmail } from "../../../identity/identifiers.ts";
import { checkNewPassword, setPassword } from "../../../identity/password/service.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { captchaSolved, newCaptcha } from "../../captcha.ts";
import { sendEmailConfirmation } from "../../email-confirmation.ts";
import { checkbox, text } from "../../enrolment/data.ts";
import type { StepDefinition } from "../../flow.ts";
import { newPasswordField, passwordIssues } from "../../password-fields.ts";
import { REGISTRATION_PAGES, type RegistrationData } from "../data.ts";

const Input = z.object({
  given_name: text(60),
  family_name: text(60),
  email: text(254),
  fiscal_code: text(16),
  password: z.string().max(256).optional(),
  privacy_consent: checkbox.optional(),
  captcha: z.string().max(2000).optional(),
});
type Input = z.infer<typeof Input>;

const NAME = /^[\p{L}][\p{L}\p{M}' .-]{0,59}$/u;
const issue = (field: string, code: string, params?: Record<string, string | number>): FieldIssue => ({ field, code, message: code, ...(params ? { params } : {}) });

/** Whether a submission can get as far as the check that its codice fiscale is free. */
const reachesTakenCheck = (input: Input) => Boolean(input.fiscal_code);

/**
 * "Registrati" (seed 001): names, an e-mail address, the codice fiscale for an Italian citizen
 * (well formed, its check character right, its letters those of the names), a password under the
 * tenant's policy, the privacy notice, the captcha. Then the account exists, unconfirmed, with the
 * next codice persona ("ti verrà assegnato un codice persona"), and a confirmation e-mail goes out.
 * Whether a codice fiscale already has an account is said only to an otherwise valid submission,
 * under the limits of identity/identifier-checks.ts. A codice fiscale typed here is the holder's
 * word: an upstream identity provider's assertion verifies it later.
 */
export function enterDetails(outside: { attempts: AttemptStore; clockNow(): number }): StepDefinition<RegistrationData, Input> {
  const checks = identifierChecks(outside);
  return {
    name: "details",
    input: Input,

    fields({ tenant, flow, t }) {
      const value = (name: string) => (flow.data.details?.[name] !== undefined ? { value: flow.data.details[name] } : {});
      return [
        { name: "given_name", type: "text", required: true, label: t("enrol.field.given_name"), autocomplete: "given-name", ...value("given_name") },
        { name: "family_name", type: "text", required: true, label: t("enrol.field.family_name"), autocomplete: "family-name", ...value("family_name") },
        { name: "email", type: "email", required: true, label: t("enrol.field.email"), hint: t("register.field.email.hint"), autocomplete: "email", ...value("email") },
        ...(flow.data.citizenship === "italian"
          ? [{ name: "fiscal_code", type: "text" as const, required: true, label: t("enrol.field.fiscal_code"), hint: t("register.field.fiscal_code.hint"), ...value("fiscal_code") }]
          : []),
        newPasswordField(tenant, t, t("register.field.password")),
        { name: "privacy_consent", type: "checkbox", required: true, label: t("enrol.field.privacy_consent") },
        { name: "captcha", type: "captcha", required: true, label: t("enrol.field.captcha"), ...(flow.data.captcha ? { challenge: flow.data.captcha } : {}) },
      ];
    },

    gate: (ctx, input) => (reachesTakenCheck(input) ? checks.book(ctx, "fiscal_code") : Promise.resolve(null)),

    async settle(ctx, input, outcome) {
      if (!reachesTakenCheck(input)) return;
      await checks.settle(ctx, outcome.type !== "reject" || outcome.errors.some((e) => e.code === "fiscal_code.taken"));
    },

    async handle(ctx, input) {
      const { deps, tenant, flow } = ctx;
      const italian = flow.data.citizenship === "italian";
      const errors: FieldIssue[] = [];
      for (const name of ["given_name", "family_name"] as const) {
        if (!input[name]) errors.push(issue(name, "enrol.required"));
        else if (!NAME.test(input[name])) errors.push(issue(name, "enrol.invalid_name"));
      }
      const email = input.email ? normalizeEmail(input.email) : null;
      if (!input.email) errors.push(issue("email", "enrol.required"));
      else if (!email) errors.push(issue("email", "identifier.invalid_email"));

      let fiscalCode: string | null = null;
      if (italian) {
        const decoded = input.fiscal_code ? decodeCodiceFiscale(input.fiscal_code) : undefined;
        if (!decoded) errors.push(issue("fiscal_code", "enrol.required"));
        else if (!decoded.ok) errors.push(issue("fiscal_code", `fiscal_code.${decoded.problem}`));
        else {
          fiscalCode = decoded.value.code;
          // Only the names are known here; the code's first six letters must be theirs.
          const wrong = [
            ...(input.family_name && decoded.value.surnameCode !== surnameCode(input.family_name) ? ["family_name"] : []),
            ...(input.given_name && decoded.value.nameCode !== nameCode(input.given_name) ? ["given_name"] : []),
          ];
          const label = translator(ctx.locale);
          if (wrong.length > 0) errors.push(issue("fiscal_code", "fiscal_code.mismatch", { fields: wrong.map((f) => label(`enrol.field.${f as "given_name"}`)).join(", ") }));
        }
      }
      if (!input.password) errors.push(issue("password", "enrol.required"));
      else {
        const personal = { givenName: input.given_name ?? null, familyName: input.family_name ?? null, fiscalCode, email };
        errors.push(...passwordIssues(await checkNewPassword(deps, tenant, null, input.password, personal)));
      }
      if (input.privacy_consent !== true) errors.push(issue("privacy_consent", "enrol.privacy_required"));
      const captchaOk = Boolean(flow.data.captcha && input.captcha && (await captchaSolved(deps.secrets, flow.data.captcha, input.captcha)));
      if (!captchaOk) errors.push(issue("captcha", "enrol.captcha_failed"));

      // Whether the codice fiscale has an account is said only to a submission right in every other way.
      if (errors.length === 0 && fiscalCode) {
        const holder = await deps.repos.accounts.findByFiscalCode(tenant.id, "identity", fiscalCode);
        if (holder) {
          await auditTaken(deps, tenant, ctx.by, { holder: holder.id, field: "fiscal_code", flowId: flow.id });
          errors.push(issue("fiscal_code", "fiscal_code.taken"));
        }
      }

      const remembered = { details: Object.fromEntries(Object.entries(input).filter(([k, v]) => typeof v === "string" && !["password", "captcha"].includes(k))) as Record<string, string> };
      // Every refusal gets a fresh challenge: a solution counts once.
      if (errors.length > 0) return { type: "reject", errors, data: { ...remembered, captcha: await newCaptcha(deps.secrets, tenant.policy.registration.captchaMaxNumber) } };

      const account = await createAccountWithCodicePersona(
        deps,
        tenant,
        { state: "unconfirmed", email, givenName: input.given_name!, familyName: input.family_name!, fiscalCode, citizenship: flow.data.citizenship!, locale: ctx.locale },
        ctx.by,
      );
      await setPassword(deps, tenant, account, input.password!, ctx.by);
      await recordConsent(deps, tenant, account, { purpose: "privacy", version: "1", granted: true }, ctx.by);
      const minutes = tenant.policy.registration.emailConfirmationMinutes;
      const sent = await sendEmailConfirmation({ ...ctx, flow }, account, { pages: REGISTRATION_PAGES, minutes, template: "registration_confirmation" });
      return {
        type: "advance",
        to: "email_confirmation",
        accountId: account.id,
        expiresAt: deps.clock.now() + minutes * 60_000,
        data: { ...remembered, captcha: undefined },
        ...(sent.ok ? { notice: { code: "enrol.email_sent" as const, params: { email: email! } } } : {}),
      };
    },
  };
}
