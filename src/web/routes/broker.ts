import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { receiveOidcCallback, receiveSamlResponse } from "../../federation/broker/broker.ts";
import { serviceProviderMetadata } from "../../federation/broker/saml/sp-metadata.ts";
import { samlCredentials } from "../../federation/saml/credential.ts";
import type { BrokerRequestRow } from "../../store/repos/broker.ts";
import { TesseraError } from "../../shared/errors.ts";
import { brokerContexts, isBroker } from "../broker-context.ts";
import { pageContext } from "../page-context.ts";
import { actorOf, identityDeps, type WebServices } from "../services.ts";
import { errorPage } from "../views/error-page.ts";
import { html } from "../browser-flows.ts";

/**
 * The broker tenant's side of upstream sign-ins (federation/broker): its SAML service provider
 * metadata, the assertion consumer service, and the OpenID Connect callback. An answer is verified
 * and recorded where it arrives; the browser then goes back to its sign-in flow (a GET, which
 * carries the flow's SameSite=Lax cookie even after a cross-site POST), where the flow takes it.
 */
export function brokerRoutes(services: WebServices) {
  const deps = identityDeps(services);
  const credentials = samlCredentials(deps);
  const contextOf = brokerContexts(services, credentials);
  const metadataCache = new Map<string, { key: string; xml: string }>();

  const backToFlow = (request: FastifyRequest, reply: FastifyReply, row: BrokerRequestRow) =>
    reply.redirect(`/t/${request.tenant!.id}/login/${row.flow_id}/upstream-answer?request=${encodeURIComponent(row.id)}`, 303);

  function refused(request: FastifyRequest, reply: FastifyReply, error: unknown) {
    if (!(error instanceof TesseraError) || error.status >= 500) throw error;
    request.log.info({ broker: error.message }, "upstream answer refused");
    return html(reply, error.status, errorPage(pageContext(request), { status: error.status, message: request.t("upstream.no_answer"), requestId: request.id }));
  }

  return async (app: FastifyInstance) => {
    app.get("/saml/sp/metadata", async (request, reply) => {
      const tenant = request.tenant!;
      if (!isBroker(tenant)) throw new TesseraError("http.not_found", "no service provider here", { status: 404 });
      const ctx = contextOf(tenant);
      const credential = await ctx.credential();
      const key = `${credential.id}|${services.publicUrl.current}|${tenant.updatedAt}`;
      let cached = metadataCache.get(tenant.id);
      if (cached?.key !== key) {
        cached = { key, xml: await serviceProviderMetadata(tenant, ctx.sp, credential) };
        metadataCache.set(tenant.id, cached);
      }
      return reply.type("application/samlmetadata+xml").header("cache-control", "public, max-age=3600").send(cached.xml);
    });

    app.post("/saml/sp/acs", async (request, reply) => {
      const form = request.body && typeof request.body === "object" ? (request.body as Record<string, unknown>) : {};
      try {
        return backToFlow(request, reply, await receiveSamlResponse(deps, contextOf(request.tenant!), form, actorOf(request)));
      } catch (error) {
        return refused(request, reply, error);
      }
    });

    app.get("/broker/oidc/callback", async (request, reply) => {
      const url = new URL(request.url, services.publicUrl.current);
      try {
        return backToFlow(request, reply, await receiveOidcCallback(deps, contextOf(request.tenant!), url, actorOf(request)));
      } catch (error) {
        return refused(request, reply, error);
      }
    });
  };
}
