import { recordAuditBy } from "../../audit/service.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import type { Level } from "../../identity/levels.ts";
import { TesseraError } from "../../shared/errors.ts";
import { newToken } from "../../shared/ids.ts";
import type { BrokerRequestRow } from "../../store/repos/broker.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { SamlCredential } from "../saml/credential.ts";
import { samlId } from "../saml/response.ts";
import type { BrokerPurpose, UpstreamAnswer, UpstreamAnswers, UpstreamFailure } from "../../identity/upstream-identity.ts";
import { authorizationUrl, completeAuthorization, type OidcSecrets } from "./oidc.ts";
import { authnRequest, type Outgoing } from "./saml/authn-request.ts";
import { checkResponse, readResponse, ResponseRejected } from "./saml/response.ts";
import type { SpEndpoints } from "./saml/sp-metadata.ts";
import { findUpstream, type Upstream } from "./upstreams.ts";

/**
 * Signing in through an upstream identity provider, as resources in the store so that any node
 * can take each part: a request is recorded (for the flow that asked, with its purpose and level,
 * its secrets sealed) and the browser sent to the upstream; the upstream's answer is verified
 * where it arrives (the SAML ACS, the OpenID Connect callback) and recorded against the request,
 * once; the flow then takes it, once, in the browser the flow is bound to (flows/login/steps/upstream.ts).
 */

export interface BrokerContext {
  tenant: Tenant;
  /** The tenant's SAML service provider, and its signing credential. */
  sp: SpEndpoints;
  credential(): Promise<SamlCredential>;
  /** Where OpenID Connect providers send the browser back. */
  oidcRedirectUri: string;
}

const secretsContext = (tenantId: string, id: string) => `broker-request:${tenantId}:${id}`;
const resultContext = (tenantId: string, id: string) => `broker-result:${tenantId}:${id}`;

/** Records a request for `flowId` and says where the browser goes with it. */
export async function startAtUpstream(
  deps: IdentityDeps,
  ctx: BrokerContext,
  upstream: Upstream,
  input: { flowId: string; purpose: BrokerPurpose; level: Level },
): Promise<Outgoing> {
  const { tenant } = ctx;
  const now = deps.clock.now();
  const id = upstream.protocol === "saml" ? samlId() : newToken();
  let outgoing: Outgoing;
  let secrets: OidcSecrets | Record<string, never> = {};
  if (upstream.protocol === "saml") {
    // The request's ID comes back as InResponseTo; RelayState need carry nothing more.
    outgoing = await authnRequest({ id, now, level: input.level, relayState: "tessera" }, ctx.sp, upstream.idp, await ctx.credential());
  } else {
    const started = await authorizationUrl(upstream, { state: id, level: input.level, redirectUri: ctx.oidcRedirectUri });
    outgoing = { binding: "redirect", url: started.url };
    secrets = started.secrets;
  }
  await deps.repos.broker.insertRequest({
    id,
    tenant_id: tenant.id,
    upstream_id: upstream.id,
    flow_id: input.flowId,
    purpose: input.purpose,
    level: input.level,
    secrets: deps.secrets.seal(JSON.stringify(secrets), secretsContext(tenant.id, id)),
    result: null,
    created_at: now,
    expires_at: now + tenant.policy.broker.requestMinutes * 60_000,
    answered_at: null,
    taken_at: null,
  });
  return outgoing;
}

/** A request the upstream may still answer: this tenant's, unanswered, unexpired. */
async function openRequest(deps: IdentityDeps, tenant: Tenant, id: string): Promise<BrokerRequestRow | undefined> {
  const row = await deps.repos.broker.request(tenant.id, id);
  return row && row.answered_at === null && row.expires_at > deps.clock.now() ? row : undefined;
}

/** Records the answer (once); the flow is told of it by the browser's next request. */
async function answer(deps: IdentityDeps, tenant: Tenant, row: BrokerRequestRow, result: UpstreamAnswer, by: Actor): Promise<BrokerRequestRow> {
  const sealed = deps.secrets.seal(JSON.stringify(result), resultContext(tenant.id, row.id));
  await deps.repos.atomically(async (repos) => {
    if (!(await repos.broker.answerRequest(tenant.id, row.id, sealed, deps.clock.now()))) {
      throw new TesseraError("upstream.answered", "this sign-in was answered already", { status: 409 });
    }
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: result.ok ? "broker.upstream_signed_in" : "broker.upstream_refused",
      data: {
        upstream: row.upstream_id,
        purpose: row.purpose,
        ...(result.ok ? { level: result.identity.level } : { reason: result.failure.code, detail: result.failure.detail, ...(result.failure.spidCode ? { spidCode: result.failure.spidCode } : {}) }),
      },
    });
  });
  return row;
}

const NO_REQUEST = () => new TesseraError("upstream.unknown_request", "this answer belongs to no sign-in under way here", { status: 400 });

/**
 * A SAML Response posted to the ACS: verified against the request it answers and that request's
 * upstream. A valid answer, or the upstream's refusal, is recorded; an answer that fails the
 * checks is recorded as such too, so the flow can say so. Whatever names no open request is refused.
 */
export async function receiveSamlResponse(deps: IdentityDeps, ctx: BrokerContext, form: Record<string, unknown>, by: Actor): Promise<BrokerRequestRow> {
  const { tenant } = ctx;
  let read: ReturnType<typeof readResponse>;
  try {
    read = readResponse(form);
  } catch (error) {
    if (error instanceof ResponseRejected) throw NO_REQUEST();
    throw error;
  }
  const row = await openRequest(deps, tenant, read.inResponseTo);
  if (!row) throw NO_REQUEST();
  const upstream = await findUpstream(deps, tenant, row.upstream_id);
  if (!upstream || upstream.protocol !== "saml") return answer(deps, tenant, row, failed("upstream.invalid_answer", "the upstream is no longer configured"), by);
  try {
    const accepted = checkResponse(read.xml, read.response, {
      requestId: row.id,
      upstreamId: upstream.id,
      scheme: upstream.scheme,
      idp: upstream.idp,
      spEntityId: ctx.sp.entityId,
      acsUrl: ctx.sp.acsUrl,
      level: row.level as Level,
      now: deps.clock.now(),
      skewMs: tenant.policy.broker.clockSkewSeconds * 1000,
    });
    if (!(await deps.repos.broker.rememberAssertion(tenant.id, upstream.id, accepted.id, accepted.notOnOrAfter))) {
      return answer(deps, tenant, row, failed("upstream.invalid_answer", `assertion ${accepted.id} was presented before (a replay)`), by);
    }
    return answer(deps, tenant, row, { ok: true, identity: accepted.identity }, by);
  } catch (error) {
    if (error instanceof ResponseRejected) return answer(deps, tenant, row, { ok: false, failure: error.failure }, by);
    throw error;
  }
}

/** The OpenID Connect provider sent the browser back: the code redeemed for the request its state names. */
export async function receiveOidcCallback(deps: IdentityDeps, ctx: BrokerContext, callbackUrl: URL, by: Actor): Promise<BrokerRequestRow> {
  const { tenant } = ctx;
  const state = callbackUrl.searchParams.get("state");
  const row = state ? await openRequest(deps, tenant, state) : undefined;
  if (!row) throw NO_REQUEST();
  const upstream = await findUpstream(deps, tenant, row.upstream_id);
  if (!upstream || upstream.protocol !== "oidc") return answer(deps, tenant, row, failed("upstream.invalid_answer", "the upstream is no longer configured"), by);
  const secrets = JSON.parse(deps.secrets.open(row.secrets, secretsContext(tenant.id, row.id))) as OidcSecrets;
  const result = await completeAuthorization(upstream, { callbackUrl, state: row.id, level: row.level as Level, secrets });
  return answer(deps, tenant, row, result, by);
}

/** The flow takes the answer to its request, once: what it was for, and what the upstream said. */
export async function takeAnswer(deps: IdentityDeps, tenant: Tenant, requestId: string, flowId: string): Promise<{ purpose: BrokerPurpose; answer: UpstreamAnswer } | undefined> {
  const row = await deps.repos.broker.request(tenant.id, requestId);
  if (!row || row.flow_id !== flowId || row.result === null) return undefined;
  if (!(await deps.repos.broker.takeRequest(tenant.id, requestId, deps.clock.now()))) return undefined;
  return { purpose: row.purpose as BrokerPurpose, answer: JSON.parse(deps.secrets.open(row.result, resultContext(tenant.id, row.id))) as UpstreamAnswer };
}

function failed(code: UpstreamFailure["code"], detail: string): UpstreamAnswer {
  return { ok: false, failure: { code, detail } };
}

/** The answers, as the login flow takes them. */
export const upstreamAnswers: UpstreamAnswers = { take: takeAnswer };
