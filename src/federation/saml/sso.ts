import { z } from "zod";
import { recordAuditBy } from "../../audit/service.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import type { Level } from "../../identity/levels.ts";
import type { Session } from "../../identity/sessions.ts";
import { newToken } from "../../shared/ids.ts";
import type { SamlRequestRow } from "../../store/repos/saml.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { SUPPORTED_LEVELS } from "../oidc/levels.ts";
import { attributeValues, type SpidAttribute } from "./attributes.ts";
import { AUTHN_REQUEST_CHECKS, type AuthnRequestCheck } from "./checks/index.ts";
import type { SamlCredential } from "./credential.ts";
import { SpidError, spidError } from "./errors.ts";
import { type Delivery, receiveSigned } from "./receive.ts";
import { findServiceProvider } from "./registry.ts";
import { errorResponse, samlId, successResponse } from "./response.ts";
import { defaultAssertionConsumerService, type ServiceProviderDescription } from "./service-provider.ts";

/**
 * Single sign-on (SAML profiles §4.1, SPID Regole tecniche §1.2): a verified, checked AuthnRequest
 * is recorded under a random ticket, which the browser carries through sign-in and consent on
 * any node; it is answered once, by a Response posted to the service provider's ACS. One that can
 * be answered at once (the browser signed in, the consent given) is recorded with its answer, in
 * the same transaction. Either way its ID is recorded: a replay is refused.
 */
export interface IdpEndpoints {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
}

/** What is kept of an accepted request until it is answered. */
export const PendingRequest = z.object({
  requestId: z.string(),
  spEntityId: z.string(),
  spName: z.string(),
  acs: z.string(),
  relayState: z.string().optional(),
  attributes: z.array(z.string()),
  level: z.object({ comparison: z.enum(["exact", "minimum", "better", "maximum"]), named: z.number(), signInAt: z.number(), atMost: z.number() }),
  /** A sign-in newer than the request is needed (ForceAuthn, or any level above L1). */
  fresh: z.boolean(),
  purpose: z.string().optional(),
  createdAt: z.number(),
  /** Past this, the user took too long (ErrorCode nr21). */
  deadline: z.number(),
});
export type PendingRequest = z.infer<typeof PendingRequest>;

/** An answer to post to the service provider's ACS. */
export interface Answer {
  acs: string;
  samlResponse: string;
  relayState: string | undefined;
}

export type Reception =
  /** Nothing may go back to the sender: the user sees the error. */
  | { type: "refused"; error: SpidError }
  | { type: "answer"; answer: Answer; error: SpidError }
  | { type: "accepted"; ticket: string; pending: PendingRequest };

/** A request that passed every check, not recorded yet; `replay`: its answer if it turns out to be one. */
export interface Checked {
  type: "checked";
  pending: PendingRequest;
  row: SamlRequestRow;
  replay(): Promise<Extract<Reception, { type: "answer" }>>;
}

interface Context {
  deps: IdentityDeps;
  tenant: Tenant;
  idp: IdpEndpoints;
  credential: SamlCredential;
}

export async function answerWithError(ctx: Context, to: { acs: string; inResponseTo: string | undefined; relayState: string | undefined }, error: SpidError): Promise<Answer> {
  const xml = await errorResponse(ctx.idp.entityId, { destination: to.acs, inResponseTo: to.inResponseTo }, error, ctx.deps.clock.now(), ctx.credential);
  return { acs: to.acs, samlResponse: Buffer.from(xml).toString("base64"), relayState: to.relayState };
}

/** Checks an AuthnRequest: refused, answered with an error, or what to record for it. */
export async function checkAuthnRequest(ctx: Context, delivery: Delivery): Promise<Exclude<Reception, { type: "accepted" }> | Checked> {
  const { deps, tenant } = ctx;
  let received;
  try {
    received = await receiveSigned(delivery, "AuthnRequest", (entityId) => findServiceProvider(deps, tenant, entityId));
  } catch (error) {
    if (error instanceof SpidError) return { type: "refused", error };
    throw error;
  }
  const now = deps.clock.now();
  const check: AuthnRequestCheck = {
    request: received.message,
    sp: received.sp,
    binding: received.binding,
    now,
    policy: tenant.policy.saml,
    ssoUrl: ctx.idp.ssoUrl,
    entityId: ctx.idp.entityId,
    offeredLevels: SUPPORTED_LEVELS,
    found: {},
  };
  const answerError = async (error: SpidError): Promise<Extract<Reception, { type: "answer" }>> => ({
    type: "answer",
    error,
    answer: await answerWithError(ctx, { acs: (check.found.acs ?? defaultAssertionConsumerService(received.sp)).location, inResponseTo: check.found.id, relayState: received.relayState }, error),
  });
  try {
    for (const rule of AUTHN_REQUEST_CHECKS) rule(check);
  } catch (error) {
    if (error instanceof SpidError) return answerError(error);
    throw error;
  }
  const { found } = check;
  const policy = tenant.policy.saml;
  const pending: PendingRequest = {
    requestId: found.id!,
    spEntityId: received.sp.entityId,
    spName: received.sp.name,
    acs: found.acs!.location,
    ...(received.relayState !== undefined ? { relayState: received.relayState } : {}),
    attributes: found.attributeSet?.attributes ?? [],
    level: found.level!,
    fresh: found.forceAuthn === true || found.level!.signInAt > 1,
    ...(found.purpose ? { purpose: found.purpose } : {}),
    createdAt: now,
    deadline: now + policy.requestMinutes * 60_000,
  };
  const row: SamlRequestRow = {
    ticket: newToken(),
    tenant_id: tenant.id,
    sp_entity_id: received.sp.entityId,
    request_id: found.id!,
    payload: JSON.stringify(pending),
    created_at: now,
    // Kept past the clock skew window, so a replay is refused as long as its IssueInstant could pass.
    expires_at: Math.max(pending.deadline, found.issueInstant! + policy.clockSkewSeconds * 1000) + 60_000,
    answered_at: null,
  };
  return { type: "checked", pending, row, replay: () => answerError(spidError(13, "this request ID was received before (replay)")) };
}

/**
 * Records a checked request for the sign-in or consent it waits for; answered with an error if
 * this issuer sent this request ID before (a replay). A request that can be answered at once is
 * recorded by `answer` instead, with its answer.
 */
export async function recordRequest(ctx: Context, checked: Checked): Promise<Extract<Reception, { type: "accepted" | "answer" }>> {
  if (!(await ctx.deps.repos.saml.insertRequest(checked.row))) return checked.replay();
  return { type: "accepted", ticket: checked.row.ticket, pending: checked.pending };
}

export async function pendingRequest(deps: IdentityDeps, tenant: Tenant, ticket: string): Promise<{ row: SamlRequestRow; pending: PendingRequest } | undefined> {
  const row = await deps.repos.saml.request(tenant.id, ticket);
  return row ? { row, pending: PendingRequest.parse(JSON.parse(row.payload)) } : undefined;
}

/** The level the assertion states for a session: the named one for exact, else as high as reached and allowed. */
export function assertedLevel(pending: PendingRequest, session: Session): Level {
  if (pending.level.comparison === "exact") return pending.level.named as Level;
  return Math.min(session.level, pending.level.atMost) as Level;
}

/** The session meets the request: its level, and its age if a fresh sign-in was asked for. */
export function sessionMeets(pending: PendingRequest, session: Session | undefined, floor: Level = 1): session is Session {
  return !!session && session.level >= Math.max(pending.level.signInAt, floor) && (!pending.fresh || session.authenticatedAt >= pending.createdAt);
}

/** The attributes the request asks for that the account has, in the order of the SP's metadata. */
export function releasedAttributes(pending: PendingRequest, account: Account): { name: SpidAttribute; value: string }[] {
  const values = attributeValues(account);
  return (pending.attributes as SpidAttribute[]).filter((name) => values[name] !== undefined).map((name) => ({ name, value: values[name]! }));
}

/** Whether the holder agreed before to release these attributes to this service provider. */
export async function hasConsent(deps: IdentityDeps, tenant: Tenant, accountId: string, pending: PendingRequest): Promise<boolean> {
  if (pending.attributes.length === 0) return true;
  const consent = await deps.repos.saml.consent(tenant.id, accountId, pending.spEntityId);
  const agreed = new Set(consent ? (JSON.parse(consent.attributes) as string[]) : []);
  return pending.attributes.every((a) => agreed.has(a));
}

export async function giveConsent(deps: IdentityDeps, tenant: Tenant, accountId: string, pending: PendingRequest, by: Actor): Promise<void> {
  const before = await deps.repos.saml.consent(tenant.id, accountId, pending.spEntityId);
  const attributes = [...new Set([...(before ? (JSON.parse(before.attributes) as string[]) : []), ...pending.attributes])];
  await deps.repos.atomically(async (repos) => {
    await repos.saml.putConsent({ tenant_id: tenant.id, account_id: accountId, sp_entity_id: pending.spEntityId, attributes: JSON.stringify(attributes), given_at: deps.clock.now() });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "saml.consent_given", subject: accountId, data: { sp: pending.spEntityId, attributes } });
  });
}

/**
 * Answers the request once: with an error, or with the assertion for this session and account
 * (recorded for single logout). Undefined if it was answered already (or, `unrecorded`, if its ID
 * was recorded before: a replay).
 */
export async function answer(
  ctx: Context,
  ticket: string,
  pending: PendingRequest,
  outcome: { error: SpidError } | { session: Session; account: Account },
  by: Actor,
  /** A request checked a moment ago and not recorded yet: recorded here, answered, with the answer. */
  unrecorded?: SamlRequestRow,
): Promise<Answer | undefined> {
  const { deps, tenant } = ctx;
  const now = deps.clock.now();
  const to = { acs: pending.acs, inResponseTo: pending.requestId, relayState: pending.relayState };
  const nameId = samlId();
  const sessionIndex = samlId();
  const level = "error" in outcome ? undefined : assertedLevel(pending, outcome.session);
  // One transaction: the request marked answered, the session recorded for single logout, the
  // audit entry. Signing comes after it, so that no transaction waits on the thread pool.
  const answered = await deps.repos.atomically(async (repos) => {
    const marked = unrecorded ? await repos.saml.insertRequest({ ...unrecorded, answered_at: now }) : await repos.saml.answerRequest(tenant.id, ticket, now);
    if (!marked) return false;
    if ("error" in outcome) {
      await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "saml.failed", data: { sp: pending.spEntityId, error: outcome.error.statusMessage } });
      return true;
    }
    const { session, account } = outcome;
    await repos.saml.insertSession({
      session_index: sessionIndex,
      tenant_id: tenant.id,
      session_id: session.id,
      account_id: account.id,
      sp_entity_id: pending.spEntityId,
      name_id: nameId,
      level: level!,
      created_at: now,
      expires_at: session.expiresAt,
    });
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "saml.authorized",
      subject: account.id,
      data: { sp: pending.spEntityId, spName: pending.spName, level, amr: session.amr, attributes: pending.attributes },
    });
    return true;
  });
  if (!answered) return undefined;
  if ("error" in outcome) return answerWithError(ctx, to, outcome.error);
  const xml = await successResponse(
    {
      idpEntityId: ctx.idp.entityId,
      spEntityId: pending.spEntityId,
      destination: pending.acs,
      inResponseTo: pending.requestId,
      now,
      validForMs: tenant.policy.saml.assertionMinutes * 60_000,
      nameId,
      sessionIndex,
      authnInstant: outcome.session.authenticatedAt,
      level: level!,
      attributes: releasedAttributes(pending, outcome.account),
    },
    ctx.credential,
  );
  return { acs: pending.acs, samlResponse: Buffer.from(xml).toString("base64"), relayState: pending.relayState };
}

export type { ServiceProviderDescription };
