import type { FastifyReply, FastifyRequest } from "fastify";
import type { BrokerContext } from "../federation/broker/broker.ts";
import type { Outgoing } from "../federation/broker/saml/authn-request.ts";
import { spEndpoints } from "../federation/broker/saml/sp-metadata.ts";
import { type SamlCredentials, samlCredentials } from "../federation/saml/credential.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { html } from "./browser-flows.ts";
import { pageContext } from "./page-context.ts";
import { formTarget } from "./plugins/security.ts";
import { identityDeps, tenantUrl, type WebServices } from "./services.ts";
import { postFormPage } from "./views/saml.ts";

/** A tenant that can sign its users in through SPID/CIE: one whose accounts have a codice persona. */
export const isBroker = (tenant: Tenant) => tenant.policy.identifier === "codice_persona";

/** The broker's view of a tenant, as the web layer runs it: its SP endpoints, credential, callback. */
export function brokerContexts(services: WebServices, credentials: SamlCredentials = samlCredentials(identityDeps(services))) {
  return (tenant: Tenant): BrokerContext => {
    const base = tenantUrl(services, tenant);
    return {
      tenant,
      sp: spEndpoints(base, services.publicUrl.current),
      credential: () => credentials(tenant, new URL(services.publicUrl.current).hostname),
      oidcRedirectUri: `${base}/broker/oidc/callback`,
    };
  };
}

/** Sends the browser to the upstream: a redirect, or the auto-posting form of the HTTP-POST binding. */
export function sendToUpstream(request: FastifyRequest, reply: FastifyReply, outgoing: Outgoing) {
  if (outgoing.binding === "redirect") return reply.redirect(outgoing.url, 303);
  return html(reply.allowFormTargets(formTarget(outgoing.url)), 200, postFormPage(pageContext(request), { action: outgoing.url, fields: outgoing.fields }));
}
