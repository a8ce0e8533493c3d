import { z } from "zod";
import { recordAuditBy } from "../../../audit/service.ts";
import { type Account, accountFromRow, findAccount, stateBlock } from "../../../identity/accounts.ts";
import { createAccountWithCodicePersona } from "../../../identity/codice-persona.ts";
import type { Method } from "../../../identity/levels.ts";
import { relyingPartyOf } from "../../../identity/passkeys.ts";
import type { UpstreamAnswers, UpstreamFailure, UpstreamIdentity } from "../../../identity/upstream-identity.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import { type MessageKey, type Translate, translator } from "../../../shared/i18n/translate.ts";
import type { StepContext, StepDefinition, StepOutcome } from "../../flow.ts";
import type { LoginData } from "../data.ts";
import { afterFirstFactor, signedIn } from "../finish.ts";

const Input = z.object({ request: z.string().min(1).max(200) });

/** The method an upstream's answer counts as: its scheme, at level 2 two factors at once. */
export function methodOf(identity: UpstreamIdentity): Method {
  return identity.level >= 2 ? (`${identity.scheme}_l2` as const) : identity.scheme;
}

/** What the user reads of an upstream's refusal: the SPID ErrorCode's meaning where there is one. */
export function upstreamIssue(t: Translate, failure: UpstreamFailure): FieldIssue {
  const specific = failure.spidCode ? (`upstream.spid_error.${failure.spidCode}` as MessageKey) : undefined;
  const key: MessageKey = specific && [19, 20, 21, 22, 23].includes(failure.spidCode!) ? specific : failure.code;
  return { field: "upstream", code: key, message: t(key) };
}

const issue = (t: Translate, code: MessageKey): FieldIssue => ({ field: "upstream", code, message: t(code) });

/**
 * The answer of an upstream SPID/CIE identity provider (federation/broker), taken once by the flow
 * that asked for it, in the browser bound to that flow. What it leads to depends on why it was asked:
 *
 * - `login` ("Entra con SPID/CIE"): the account with the asserted codice fiscale; if its codice
 *   fiscale was only typed at registration, its password links it first (link_password: someone
 *   may have registered with another's code); if there is none, a new account with the next
 *   codice persona, whose holder then chooses a password (first_password, seed 001).
 * - `step_up` (the second factor) and `activate` ("Attiva 2FA con SPID/CIE"): accepted only at
 *   level 2 and only for the account's own codice fiscale; `activate` makes it the account's
 *   second factor.
 */
export function upstreamAnswer(upstreams: UpstreamAnswers): StepDefinition<LoginData, z.infer<typeof Input>> {
  return {
    name: "upstream",
    input: Input,
    reachableFrom: ["second_factor", "activate_2fa"],
    fields: () => [],

    async handle(ctx, input): Promise<StepOutcome<LoginData>> {
      const t = translator(ctx.locale);
      const { deps, tenant, flow } = ctx;
      const taken = await upstreams.take(deps, tenant, input.request, flow.id);
      const expected = { login: "upstream", step_up: "second_factor", activate: "activate_2fa" } as const;
      if (!taken || flow.step !== expected[taken.purpose] || (taken.purpose === "login") !== (flow.accountId === null)) {
        return { type: "reject", errors: [issue(t, "upstream.no_answer")] };
      }
      if (!taken.answer.ok) return { type: "reject", errors: [upstreamIssue(t, taken.answer.failure)] };
      const identity = taken.answer.identity;
      if (taken.purpose === "login") return signInAs(ctx, identity);

      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      if (!account.fiscalCode) return { type: "reject", errors: [issue(t, "upstream.no_fiscal_code_here")] };
      if (account.fiscalCode !== identity.fiscalCode || identity.level < 2) return { type: "reject", errors: [issue(t, "upstream.other_person")] };
      const now = deps.clock.now();
      if (account.fiscalCodeVerifiedAt === null) await deps.repos.accounts.update(tenant.id, account.id, { fiscal_code_verified_at: now, updated_at: now });
      if (taken.purpose === "activate") {
        await deps.repos.broker.addUpstreamFactor(account.id, now);
        await recordAuditBy(deps.repos, deps.clock, { ...ctx.by, actor: `account:${account.id}` }, {
          tenantId: tenant.id,
          type: "factor.added",
          subject: account.id,
          data: { factor: "upstream", upstream: identity.upstreamId },
        });
      }
      return signedIn(ctx, account, 2, [...(flow.data.firstFactor ?? ["password"]), methodOf(identity)]);
    },
  };
}

async function signInAs(ctx: StepContext<LoginData>, identity: UpstreamIdentity): Promise<StepOutcome<LoginData>> {
  const t = translator(ctx.locale);
  const { deps, tenant } = ctx;
  const first = [methodOf(identity)];
  const row = await deps.repos.accounts.findByFiscalCode(tenant.id, "identity", identity.fiscalCode);
  if (row) {
    const account: Account = accountFromRow(row);
    const block = stateBlock(account.state);
    if (block) return { type: "reject", errors: [{ field: "upstream", code: block.replace("account.", ""), message: t(block) }] };
    if (account.fiscalCodeVerifiedAt === null) {
      return { type: "advance", to: "link_password", accountId: account.id, data: { firstFactor: first } };
    }
    // An account made at a first sign-in through SPID/CIE whose holder never chose a password: now.
    if (!(await deps.repos.accounts.password(account.id))) return { type: "advance", to: "first_password", accountId: account.id, data: { firstFactor: first } };
    return afterFirstFactor(ctx, account, relyingPartyOf(tenant, ctx.tenantUrl), first);
  }
  // "Ti verrà assegnato un codice persona e dovrai inserire una password" (seed 001).
  const account = await createAccountWithCodicePersona(
    deps,
    tenant,
    {
      state: "active",
      fiscalCode: identity.fiscalCode,
      fiscalCodeVerified: true,
      givenName: identity.givenName,
      familyName: identity.familyName,
      email: identity.email,
      emailVerified: identity.email !== null,
      locale: ctx.locale,
    },
    { ...ctx.by, actor: `upstream:${identity.upstreamId}` },
  );
  return { type: "advance", to: "first_password", accountId: account.id, data: { firstFactor: first } };
}
