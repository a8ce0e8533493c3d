import type { FastifyRequest } from "fastify";
import { findAccount } from "../identity/accounts.ts";
import type { Level } from "../identity/levels.ts";
import { levelToManageFactors } from "../identity/second-factors.ts";
import type { Session } from "../identity/sessions.ts";
import { requireLevel } from "../identity/sessions.ts";
import { TesseraError } from "../shared/errors.ts";
import { identityDeps, type WebServices } from "./services.ts";

/**
 * For changes to an account: a session of at least `level` (else `step_up_required`), signed in
 * no longer ago than the tenant allows (`session.reauthMinutes`). An older one must sign in again, which RFC 9470 expresses as
 * `insufficient_user_authentication` with `max_age`.
 */
export function requireFreshSession(services: WebServices, request: FastifyRequest, level: Level = 1): Session {
  const session = request.session ?? undefined;
  requireLevel(session, level);
  const maxAge = request.tenant!.policy.session.reauthMinutes * 60;
  if (services.clock.now() - session.authenticatedAt > maxAge * 1000) {
    throw new TesseraError("session.reauth_required", "sign in again to change the account", { status: 401, params: { maxAge, level: session.level } });
  }
  return session;
}

/**
 * For changes to how the account signs in (second factors, and the contacts that receive codes):
 * a fresh session at the level `levelToManageFactors` asks for.
 */
export async function requireFactorSession(services: WebServices, request: FastifyRequest): Promise<Session> {
  const session = requireFreshSession(services, request);
  const account = await findAccount(identityDeps(services), request.tenant!, session.accountId);
  if (!account) throw new TesseraError("session.required", "no account", { status: 401 });
  return requireFreshSession(services, request, await levelToManageFactors(identityDeps(services), request.tenant!, account));
}
