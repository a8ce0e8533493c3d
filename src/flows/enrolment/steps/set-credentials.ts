import { newPasswordField } from "../../password-fields.ts";
import { z } from "zod";
import { type Account, createAccount, findAccountByIdentifier } from "../../../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded, attemptWithdrawn, beginAttempt } from "../../../identity/brute-force.ts";
import { normalizeEmail } from "../../../identity/identifiers.ts";
import { checkPasswordRules } from "../../../identity/password/rules.ts";
import { checkNewPassword, setPassword } from "../../../identity/password/service.ts";
import { checkPassword, confirmPassword, type PasswordCheck } from "../../../identity/password-sign-in.ts";
import { recordConsent } from "../../../identity/consents.ts";
import { auditTaken, identifierChecks } from "../../../identity/identifier-checks.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import { captchaSolved, newCaptcha } from "../../captcha.ts";
import type { StepContext, StepDefinition } from "../../flow.ts";
import { sendEmailConfirmation } from "../confirmation-mail.ts";
import { checkbox, type EnrolmentData, sealContext, text } from "../data.ts";

const Input = z.object({
  // New customer.
  email: text(254),
  password: z.string().max(256).optional(),
  marketing_consent: checkbox.optional(),
  captcha: z.string().max(2000).optional(),
  // Existing shop customer ("Ho già un account").
  customer_email: text(254),
  customer_password: z.string().max(256).optional(),
  // Both.
  privacy_consent: checkbox.optional(),
});
type Input = z.infer<typeof Input>;

/** The attempt store, for checking a shop password: injected by the web layer (outside transactions). */
export interface CredentialsOutside {
  attempts: AttemptStore;
  clockNow(): number;
}

const issue = (field: string, code: string, message = code): FieldIssue => ({ field, code, message });

/**
 * Step 2 (seed 000): the access credentials. A new customer chooses the e-mail address that
 * becomes the user ID (unique: one already used cannot be chosen) and a password under the
 * tenant's policy, agrees to the privacy notice (and optionally to marketing) and solves the
 * captcha. A customer of the tenant's shop signs in with that account instead and links it: the
 * two then share one password, and if it does not meet the identity policy it must be changed
 * first. Either way the account now exists, unconfirmed, and a confirmation e-mail goes out.
 */
export function setCredentials(outside: CredentialsOutside): StepDefinition<EnrolmentData, Input, PasswordCheck | undefined> {
  const subject = (tenantId: string, input: Input, ip: string | null | undefined) => ({
    tenantId,
    identifier: normalizeEmail(input.customer_email ?? "") ?? (input.customer_email ?? "").toLowerCase(),
    ip: ip ?? "unknown",
  });
  const existing = (input: Input) => input.customer_email !== undefined;
  const checks = identifierChecks(outside);

  return {
    name: "credentials",
    input: Input,

    fields({ tenant, flow, t }) {
      return [
        { name: "email", type: "email", required: true, label: t("enrol.field.email"), hint: t("enrol.field.email.hint"), autocomplete: "email", ...(flow.data.email ? { value: flow.data.email } : {}) },
        newPasswordField(tenant, t, t("enrol.field.password")),
        { name: "privacy_consent", type: "checkbox", required: true, label: t("enrol.field.privacy_consent") },
        { name: "marketing_consent", type: "checkbox", required: false, label: t("enrol.field.marketing_consent") },
        { name: "captcha", type: "captcha", required: true, label: t("enrol.field.captcha"), ...(flow.data.captcha ? { challenge: flow.data.captcha } : {}) },
        { name: "customer_email", type: "email", required: false, label: t("enrol.field.customer_email"), hint: t("enrol.field.customer_email.hint"), autocomplete: "username" },
        { name: "customer_password", type: "password", required: false, label: t("enrol.field.customer_password"), autocomplete: "current-password" },
      ];
    },

    /**
     * A shop password is a secret being guessed at: the brute-force gate applies. A new address
     * may be answered "already in use": that check is booked and limited (identity/identifier-checks.ts).
     */
    async gate(ctx, input) {
      if (!existing(input)) return reachesTakenCheck(input) ? checks.book(ctx, "email") : null;
      const gate = await beginAttempt(outside.attempts, ctx.tenant.policy.lockout, subject(ctx.tenant.id, input, ctx.by.ip), outside.clockNow());
      return gate.allowed ? null : [{ field: "customer_password", code: gate.reason, message: gate.reason, params: gate.params }];
    },

    // The shop password is checked before the transaction, like a sign-in's, and as a sign-in's:
    // the same work whether or not the address is a customer's.
    async prepare(ctx, input) {
      if (!existing(input)) return undefined;
      return checkPassword(ctx.deps, ctx.tenant, { identifier: input.customer_email ?? "", password: input.customer_password ?? "" }, "customer");
    },

    async handle(ctx, input, check) {
      return check ? linkShopAccount(ctx, input, check) : registerNew(ctx, input);
    },

    async settle(ctx, input, outcome) {
      if (!existing(input)) {
        // The check is the last one made: it was, if the outcome is an account or "taken".
        if (reachesTakenCheck(input)) await checks.settle(ctx, outcome.type !== "reject" || outcome.errors.some((e) => e.code === "account.identifier_taken"));
        return;
      }
      const who = subject(ctx.tenant.id, input, ctx.by.ip);
      const wrongPassword = outcome.type === "reject" && outcome.errors.some((e) => e.code === "login.invalid_credentials");
      if (wrongPassword) await attemptFailed(outside.attempts, ctx.tenant.policy.lockout, who, outside.clockNow());
      else if (outcome.type !== "reject") await attemptSucceeded(outside.attempts, who, outside.clockNow());
    },

    async withdraw(ctx, input) {
      if (!existing(input)) {
        if (reachesTakenCheck(input)) await checks.settle(ctx, false);
        return;
      }
      await attemptWithdrawn(outside.attempts, subject(ctx.tenant.id, input, ctx.by.ip), outside.clockNow());
    },
  };
}

/** Whether a new customer's submission can get as far as the "already in use" check. */
const reachesTakenCheck = (input: Input) => Boolean(input.email && normalizeEmail(input.email));

async function registerNew(ctx: StepContext<EnrolmentData>, input: Input) {
  const { deps, tenant, flow } = ctx;
  const policy = tenant.policy.enrolment!;
  const errors: FieldIssue[] = [];
  const email = input.email ? normalizeEmail(input.email) : null;
  if (!input.email) errors.push(issue("email", "enrol.required"));
  else if (!email) errors.push(issue("email", "identifier.invalid_email"));
  if (!input.password) errors.push(issue("password", "enrol.required"));
  else {
    for (const f of await checkNewPassword(deps, tenant, null, input.password, { email })) {
      errors.push({ field: "password", code: f.rule, message: f.rule, params: f.params });
    }
  }
  if (input.privacy_consent !== true) errors.push(issue("privacy_consent", "enrol.privacy_required"));
  const captchaOk = Boolean(flow.data.captcha && input.captcha && (await captchaSolved(deps.secrets, flow.data.captcha, input.captcha)));
  if (!captchaOk) errors.push(issue("captcha", "enrol.captcha_failed"));
  // Whether the address is someone's user ID is said only to a submission that is right in every
  // other way, captcha solved: each answer costs a solved captcha and a booked check.
  if (errors.length === 0) {
    const holder = await findAccountByIdentifier(deps, tenant, email!);
    if (holder) {
      await auditTaken(deps, tenant, ctx.by, { holder: holder.id, field: "email", flowId: flow.id });
      errors.push(issue("email", "account.identifier_taken"));
    }
  }
  // Every rejected attempt gets a fresh challenge: a solution counts once.
  if (errors.length > 0) return { type: "reject" as const, errors, data: { captcha: await newCaptcha(deps.secrets, policy.captchaMaxNumber) } };

  const account = await createAccount(deps, tenant, { identifier: email!, state: "unconfirmed", email, locale: ctx.locale }, ctx.by);
  await setPassword(deps, tenant, account, input.password!, ctx.by);
  await recordConsent(deps, tenant, account, { purpose: "privacy", version: policy.versions.privacy, granted: true }, ctx.by);
  await recordConsent(deps, tenant, account, { purpose: "marketing", version: policy.versions.marketing, granted: input.marketing_consent === true }, ctx.by);
  return confirmEmail(ctx, account, { path: "new", email: email!, sealedPassword: deps.secrets.seal(input.password!, sealContext(flow.id)) });
}

async function linkShopAccount(ctx: StepContext<EnrolmentData>, input: Input, check: PasswordCheck) {
  const { deps, tenant, flow } = ctx;
  const policy = tenant.policy.enrolment!;
  const errors: FieldIssue[] = [];
  if (input.privacy_consent !== true) errors.push(issue("privacy_consent", "enrol.privacy_required"));
  const customer = (await confirmPassword(deps, tenant, check))?.account;
  if (!customer) {
    // Which of the two was wrong is not said: that would tell who is a customer.
    errors.push(issue("customer_password", "login.invalid_credentials"));
    return { type: "reject" as const, errors };
  }
  if ((await deps.repos.accounts.linkedTo(tenant.id, customer.id)) || (await findAccountByIdentifier(deps, tenant, customer.identifier))) {
    errors.push(issue("customer_email", "account.identifier_taken"));
  }
  if (errors.length > 0) return { type: "reject" as const, errors };

  const account = await createAccount(
    deps,
    tenant,
    { identifier: customer.identifier, state: "unconfirmed", email: customer.email, locale: ctx.locale, credentialAccountId: customer.id },
    ctx.by,
  );
  await recordConsent(deps, tenant, account, { purpose: "privacy", version: policy.versions.privacy, granted: true }, ctx.by);
  const data = { path: "existing" as const, email: customer.identifier, sealedPassword: deps.secrets.seal(input.customer_password!, sealContext(flow.id)) };
  // A shop password below the identity policy must be changed before anything else (seed 000).
  if (checkPasswordRules(tenant.policy.password, input.customer_password!, { email: customer.email }).length > 0) {
    return {
      type: "advance" as const,
      to: "password_change",
      accountId: account.id,
      expiresAt: deps.clock.now() + policy.requestDays * 86_400_000,
      data: { ...data, passwordChange: "policy" as const, captcha: undefined },
      notice: { code: "enrol.password_change.policy" as const },
    };
  }
  return confirmEmail(ctx, account, data);
}

/** The account exists: the request is kept `requestDays`, and the address must be confirmed. */
export async function confirmEmail(ctx: StepContext<EnrolmentData>, account: Account, data: Partial<EnrolmentData>) {
  const sent = await sendEmailConfirmation(ctx, account);
  return {
    type: "advance" as const,
    to: "email_confirmation",
    accountId: account.id,
    expiresAt: ctx.deps.clock.now() + ctx.tenant.policy.enrolment!.requestDays * 86_400_000,
    data: { ...data, passwordChange: undefined, captcha: undefined },
    ...(sent.ok ? { notice: { code: "enrol.email_sent" as const, params: { email: account.email! } } } : {}),
  };
}
