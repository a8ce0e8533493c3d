import type { FastifyInstance, FastifyRequest } from "fastify";
import { requireLevel, findSession } from "../../identity/sessions.ts";
import type { Level } from "../../identity/levels.ts";
import { TesseraError } from "../../shared/errors.ts";
import { identityDeps, type WebServices } from "../services.ts";
import { SESSION_COOKIE, sessionTokenOf } from "../session-cookie.ts";

/**
 * Within a tenant's routes: resolves the session the request carries (if any) and refuses
 * state-changing requests that ride on the session cookie but come from another site. Browsers
 * send Origin on every POST (or at least Sec-Fetch-Site); one that is absent or foreign means a
 * cross-site request (CSRF).
 * Bearer-token clients carry no cookie and are not concerned.
 */
export function sessionScope(services: WebServices) {
  return async (scope: FastifyInstance) => {
    scope.addHook("onRequest", async (request) => {
      if (!["GET", "HEAD", "OPTIONS"].includes(request.method) && request.cookies[SESSION_COOKIE] !== undefined) {
        const origin = request.headers.origin;
        // Browsers that withhold the origin (`Origin: null`, a privacy setting) still say, in a
        // header no page can set, whether the request comes from this site.
        const sameSite = origin === new URL(services.publicUrl.current).origin || ((origin === undefined || origin === "null") && request.headers["sec-fetch-site"] === "same-origin");
        if (!sameSite) {
          throw new TesseraError("http.forbidden_origin", `cross-origin ${request.method} refused (Origin: ${origin ?? "none"})`, {
            status: 403,
          });
        }
      }
      // Under the tenant's OAuth endpoints a bearer token is an access token (oidc-provider's,
      // the CSC API's), never a Tessera session's: only the browser's cookie is looked up there.
      const token = OAUTH_PATH.test(request.url) ? request.cookies[SESSION_COOKIE] : sessionTokenOf(request);
      if (token && request.tenant) request.session = (await findSession(identityDeps(services), request.tenant, token)) ?? null;
    });
  };
}

const OAUTH_PATH = /^\/t\/[^/]+\/(?:oidc|csc)\//;

/** A preHandler for routes that need a signed-in user at `level` or above (step-up otherwise). */
export function needsLevel(level: Level) {
  return async (request: FastifyRequest) => {
    requireLevel(request.session ?? undefined, level);
  };
}
