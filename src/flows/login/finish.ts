import { type Account, findAccount } from "../../identity/accounts.ts";
import { amrFor, type Level, type Method, withMfa } from "../../identity/levels.ts";
import { beginPasskeyAuthentication, type RelyingParty } from "../../identity/passkeys.ts";
import { availableSecondFactors } from "../../identity/second-factors.ts";
import { createSession } from "../../identity/sessions.ts";
import { enqueueMessage } from "../../messaging/outbox.ts";
import { translator } from "../../shared/i18n/translate.ts";
import type { StepContext, StepOutcome } from "../flow.ts";
import { type LoginData, secondFactorPurpose } from "./data.ts";
import { issueOtp } from "../../identity/otp.ts";
import { maskContact } from "../../identity/identifiers.ts";
import { formatDate } from "../../shared/i18n/dates.ts";

/**
 * After the first factor (the password, and a new one if it had to change; or an upstream SPID/CIE
 * provider): done at level 1, else on to the second factor, with a passkey ceremony ready if the
 * account has one. Where two factors are mandatory (seed 001), every sign-in is at level 2, and
 * an account with no second factor (recovery codes are a fallback, not one) goes to activate one
 * where the tenant offers the seed's ways to do so (SPID/CIE upstream, then an app); elsewhere an
 * account without any cannot reach level 2 (SPID ErrorCode nr20): a professional's verified
 * mobile and e-mail are their factors from activation on (seed 002). An upstream that
 * vouched for level 2 was two factors already. A holder who chose where codes go gets one at once.
 */
export async function afterFirstFactor(ctx: StepContext<LoginData>, account: Account, rp: RelyingParty, first: Method[], read: AccountRead = "earlier"): Promise<StepOutcome<LoginData>> {
  const mandatory = ctx.tenant.policy.twoFactor.mandatory;
  const level = mandatory ? 2 : ctx.flow.data.level;
  if (withMfa(amrFor(first)).includes("mfa")) return signedIn(ctx, account, 2, first, read);
  if (level === 1) return signedIn(ctx, account, 1, first, read);
  const factors = await availableSecondFactors(ctx.deps, ctx.tenant, account);
  const data = { passwordChange: undefined, firstFactor: first };
  const activatable = ctx.tenant.policy.factors.secondFactors.includes("upstream");
  if (mandatory && activatable && factors.every((f) => f === "recovery_code")) {
    return { type: "advance", to: "activate_2fa", accountId: account.id, data, notice: { code: "login.activate_2fa.needed" } };
  }
  if (factors.length === 0) {
    return { type: "reject", errors: [{ field: "identifier", code: "no_second_factor", message: translator(ctx.locale)("login.no_second_factor") }] };
  }
  const passkey = factors.includes("passkey") ? await beginPasskeyAuthentication(ctx.deps, ctx.tenant, account, rp) : undefined;
  const advance = { type: "advance" as const, to: "second_factor", accountId: account.id, data: { ...data, ...(passkey ? { passkey } : {}) } };
  // Codes go at once where the holder set them to go ("según lo tenga configurado", seed 002).
  const preferred = account.preferredFactor;
  if (preferred && factors.includes(preferred)) {
    const destination = preferred === "sms" ? account.phone! : account.email!;
    const sent = await issueOtp(ctx.deps, ctx.tenant, { purpose: secondFactorPurpose(ctx.flow.id, preferred), channel: preferred, destination, locale: account.locale ?? ctx.locale });
    if (sent.ok) return { ...advance, notice: { code: preferred === "sms" ? "login.sms_sent" : "login.email_sent", params: { to: maskContact(destination) } } };
  }
  return advance;
}

/** After the password: the first factor is the password. */
export const afterPassword = (ctx: StepContext<LoginData>, account: Account, rp: RelyingParty, read: AccountRead = "earlier") => afterFirstFactor(ctx, account, rp, ["password"], read);

/**
 * Where the caller's account comes from: read under this step's transaction and not written
 * since (then it is current as it is), or earlier (then it is read again before the session).
 */
export type AccountRead = "in this step" | "earlier";

/** Opens the session, tells the holder if they asked to be told, and ends the flow. */
export async function signedIn(ctx: StepContext<LoginData>, account: Account, level: Level, methods: Method[], read: AccountRead = "earlier"): Promise<StepOutcome<LoginData>> {
  const fresh = read === "in this step" ? account : ((await findAccount(ctx.deps, ctx.tenant, account.id)) ?? account);
  const { session, token } = await createSession(
    ctx.deps,
    ctx.tenant,
    fresh,
    { level, amr: amrFor(methods), ip: ctx.by.ip ?? null, userAgent: ctx.userAgent },
    { ...ctx.by, actor: `account:${account.id}` },
  );
  if (fresh.notifyOnLogin && fresh.email) {
    const locale = fresh.locale ?? ctx.tenant.defaultLocale;
    await enqueueMessage(ctx.deps, {
      tenant: ctx.tenant,
      channel: "email",
      to: fresh.email,
      template: "login_notice",
      locale,
      params: {
        date: formatDate(session.createdAt, locale, ctx.tenant.policy.timeZone, "dateTime"),
        ip: ctx.by.ip ?? "",
        level: `${level}`,
      },
    });
  }
  return {
    type: "finish",
    state: "complete",
    data: { passkey: undefined },
    output: { session: { token, id: session.id, level: session.level, acr: session.acr, amr: session.amr, expiresAt: session.expiresAt } },
  };
}
