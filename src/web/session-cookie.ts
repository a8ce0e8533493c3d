import type { FastifyReply, FastifyRequest } from "fastify";
import type { Session } from "../identity/sessions.ts";
import type { Tenant } from "../tenants/tenant.ts";

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site POSTs),
 * Secure whenever the site is served over https, scoped to the tenant's path so that one tenant's
 * session never reaches another's pages. It lives until the session's absolute expiry; idleness is
 * enforced on the server.
 */
export const SESSION_COOKIE = "tessera_session";

export function setSessionCookie(reply: FastifyReply, tenant: Tenant, token: string, session: Pick<Session, "expiresAt">, https: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: `/t/${tenant.id}/`,
    httpOnly: true,
    sameSite: "lax",
    secure: https,
    expires: new Date(session.expiresAt),
  });
}

export function clearSessionCookie(reply: FastifyReply, tenant: Tenant): void {
  reply.clearCookie(SESSION_COOKIE, { path: `/t/${tenant.id}/` });
}

/** The session token a request carries: the cookie (browsers) or a Bearer token (API clients). */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim() || undefined;
  return request.cookies[SESSION_COOKIE];
}
