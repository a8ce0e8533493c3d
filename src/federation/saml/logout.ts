import { deflateRawSync } from "node:zlib";
import { recordAuditBy } from "../../audit/service.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { parseInstant } from "./checks/issue-instant.ts";
import type { SamlCredential } from "./credential.ts";
import { SpidError, STATUS } from "./errors.ts";
import { type Delivery, receiveSigned } from "./receive.ts";
import { findServiceProvider } from "./registry.ts";
import { logoutResponse } from "./response.ts";
import { BINDING, type ServiceProviderDescription } from "./service-provider.ts";
import { signRedirectQuery } from "./signature.ts";
import type { IdpEndpoints } from "./sso.ts";
import { attribute, childNamed, NS, textOf } from "./xml.ts";

/**
 * Single logout initiated by a service provider (SAML profiles §4.4; SPID Regole tecniche §1.4).
 * SPID keeps single sign-on only at level 1, so the sessions to end are those of the L1 sign-in
 * the request's SessionIndex came from: the Tessera session and every assertion issued in it.
 * The other service providers of that session are not called (front-channel propagation is not
 * implemented): the answer then says PartialLogout, as SAML core §3.7.3.2 provides.
 */
export type LogoutOutcome =
  | { type: "refused"; error: SpidError }
  | { type: "post"; url: string; fields: Record<string, string> }
  | { type: "redirect"; url: string };

interface Context {
  deps: IdentityDeps;
  tenant: Tenant;
  idp: IdpEndpoints;
  credential: SamlCredential;
  /** Ends the Tessera session (web layer: also the browser's cookie). */
  endSession(accountId: string, sessionId: string): Promise<void>;
}

async function reply(ctx: Context, sp: ServiceProviderDescription, inResponseTo: string | undefined, relayState: string | undefined, status: { code: string; subCode?: string; message?: string }): Promise<LogoutOutcome> {
  const post = sp.singleLogoutServices.find((s) => s.binding === BINDING.post);
  const redirect = sp.singleLogoutServices.find((s) => s.binding === BINDING.redirect);
  const service = post ?? redirect;
  if (!service) return { type: "refused", error: new SpidError(3, `${sp.entityId} has no SingleLogoutService`) };
  const destination = service.responseLocation ?? service.location;
  const now = ctx.deps.clock.now();
  const xml = await logoutResponse(ctx.idp.entityId, { destination, inResponseTo }, status, now, ctx.credential, service === post);
  if (service === post) {
    return { type: "post", url: destination, fields: { SAMLResponse: Buffer.from(xml).toString("base64"), ...(relayState !== undefined ? { RelayState: relayState } : {}) } };
  }
  const query = await signRedirectQuery("SAMLResponse", deflateRawSync(Buffer.from(xml)).toString("base64"), relayState, ctx.credential);
  return { type: "redirect", url: `${destination}${destination.includes("?") ? "&" : "?"}${query}` };
}

export async function receiveLogoutRequest(ctx: Context, delivery: Delivery, by: Actor): Promise<LogoutOutcome> {
  const { deps, tenant } = ctx;
  let received;
  try {
    received = await receiveSigned(delivery, "LogoutRequest", (entityId) => findServiceProvider(deps, tenant, entityId));
  } catch (error) {
    if (error instanceof SpidError) return { type: "refused", error };
    throw error;
  }
  const { message, sp, relayState } = received;
  const id = attribute(message, "ID");
  const requester = (why: string) => reply(ctx, sp, id, relayState, { code: STATUS.requester, message: why });
  if (!id || !/^[A-Za-z_][\w.-]*$/.test(id)) return requester("ID is missing or malformed");
  if (attribute(message, "Version") !== "2.0") return reply(ctx, sp, id, relayState, { code: STATUS.versionMismatch });
  const issued = parseInstant(attribute(message, "IssueInstant"));
  if (issued === undefined || Math.abs(deps.clock.now() - issued) > tenant.policy.saml.clockSkewSeconds * 1000) return requester("IssueInstant is missing or outside the clock skew");
  if (attribute(message, "Destination") !== ctx.idp.sloUrl) return requester("Destination is not this identity provider's SLO endpoint");
  const nameId = textOf(childNamed(message, NS.saml, "NameID"));
  const sessionIndex = textOf(childNamed(message, NS.samlp, "SessionIndex"));
  if (!nameId || !sessionIndex) return requester("NameID and SessionIndex are required");

  const session = await deps.repos.saml.session(tenant.id, sessionIndex);
  // Already ended (or never issued): the SP's wish is met; SAML core §3.7.3.2 answers success.
  if (!session || session.sp_entity_id !== sp.entityId || session.name_id !== nameId) {
    return reply(ctx, sp, id, relayState, { code: STATUS.success });
  }
  const issuedInSession = await deps.repos.saml.sessionsOf(tenant.id, session.session_id);
  const others = new Set(issuedInSession.map((s) => s.sp_entity_id).filter((e) => e !== sp.entityId));
  await ctx.endSession(session.account_id, session.session_id);
  await deps.repos.saml.deleteSessionsOf(tenant.id, session.session_id);
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "saml.logout", subject: session.account_id, data: { sp: sp.entityId, others: [...others] } });
  return reply(ctx, sp, id, relayState, others.size > 0 ? { code: STATUS.success, subCode: STATUS.partialLogout } : { code: STATUS.success });
}
