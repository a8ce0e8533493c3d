import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { amrFor } from "../../identity/levels.ts";
import {
  beginPasskeyAuthentication,
  beginPasskeyRegistration,
  finishPasskeyAuthentication,
  finishPasskeyRegistration,
} from "../../identity/passkeys.ts";
import { levelToManageFactors } from "../../identity/second-factors.ts";
import { createSession, elevateSession, requireLevel } from "../../identity/sessions.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { needsLevel } from "../plugins/session.ts";
import { actorOf, identityDeps, inTransaction, relyingParty, type WebServices } from "../services.ts";
import { setSessionCookie } from "../session-cookie.ts";
import { parseBody } from "../validate.ts";

// The browser's JSON forms of the credentials (WebAuthn §5.1.8); the library checks them in depth.
const Credential = z.looseObject({ id: z.string().min(1).max(1024), type: z.literal("public-key"), response: z.looseObject({}) });
const RegistrationBody = z.object({ ceremonyId: z.string().min(1).max(64), response: Credential, name: z.string().max(64).optional() });
const AuthenticationBody = z.object({ ceremonyId: z.string().min(1).max(64), response: Credential });

/**
 * Passkey ceremonies as JSON, for the pages' script (assets/passkeys.js) and API clients:
 * registration for the signed-in account; authentication as a second factor (raising the
 * session to level 2) or, where the tenant allows it, as a sign-in of its own.
 */
export function passkeyRoutes(services: WebServices) {
  const https = () => services.publicUrl.current.startsWith("https://");

  return async (app: FastifyInstance) => {
    app.post("/registration/options", { preHandler: needsLevel(1) }, async (request) => {
      const account = await registrant(services, request);
      return beginPasskeyRegistration(identityDeps(services), request.tenant!, account, relyingParty(services, request.tenant!));
    });

    app.post("/registration", { preHandler: needsLevel(1) }, async (request, reply) => {
      const body = parseBody(RegistrationBody, request.body);
      const tenant = request.tenant!;
      const account = await registrant(services, request);
      const outcome = await inTransaction(services, (deps) =>
        finishPasskeyRegistration(
          deps,
          tenant,
          account,
          relyingParty(services, tenant),
          { ceremonyId: body.ceremonyId, response: body.response as unknown as RegistrationResponseJSON, name: body.name },
          actorOf(request),
        ),
      );
      if (!outcome.ok) throw new TesseraError(outcome.reason, "passkey registration failed", { status: 400 });
      return reply.code(201).send({ id: outcome.passkeyId });
    });

    app.post("/authentication/options", async (request) => {
      const tenant = request.tenant!;
      const deps = identityDeps(services);
      if (request.session ? !offersPasskeys(tenant) : !tenant.policy.factors.passkeyFirstFactor) {
        throw new TesseraError("passkey.not_allowed", "passkeys are not a first factor here", { status: 403 });
      }
      const account = request.session ? await sessionAccount(services, request) : null;
      return beginPasskeyAuthentication(deps, tenant, account, relyingParty(services, tenant));
    });

    app.post("/authentication", async (request, reply) => {
      const body = parseBody(AuthenticationBody, request.body);
      const tenant = request.tenant!;
      const session = request.session;
      const result = await inTransaction(services, async (deps) => {
        const outcome = await finishPasskeyAuthentication(deps, tenant, relyingParty(services, tenant), {
          ceremonyId: body.ceremonyId,
          response: body.response as unknown as AuthenticationResponseJSON,
        });
        if (!outcome.ok) return outcome;
        const amr = amrFor([outcome.method]);
        if (session) {
          if (!offersPasskeys(tenant)) return { ok: false as const, reason: "passkey.not_allowed" as const };
          if (outcome.account.id !== session.accountId) return { ok: false as const, reason: "passkey.failed" as const };
          return { ok: true as const, ...(await elevateSession(deps, tenant, session, { level: 2, amr }, actorOf(request))) };
        }
        if (!tenant.policy.factors.passkeyFirstFactor) return { ok: false as const, reason: "passkey.not_allowed" as const };
        if (outcome.account.state !== "active") return { ok: false as const, reason: "passkey.failed" as const };
        const input = { level: 2 as const, amr, ip: request.ip, userAgent: request.headers["user-agent"] ?? null };
        return { ok: true as const, ...(await createSession(deps, tenant, outcome.account, input, actorOf(request))) };
      });
      if (!result.ok) throw new TesseraError(result.reason, "passkey authentication failed", { status: 401 });
      setSessionCookie(reply, tenant, result.token, result.session, https());
      return {
        session: { level: result.session.level, acr: result.session.acr, amr: result.session.amr, expires_at: new Date(result.session.expiresAt).toISOString() },
      };
    });
  };
}

/** Passkeys are a factor here: as a second factor, or as a sign-in of their own. */
function offersPasskeys(tenant: Tenant): boolean {
  return tenant.policy.factors.secondFactors.includes("passkey") || tenant.policy.factors.passkeyFirstFactor;
}

async function sessionAccount(services: WebServices, request: FastifyRequest): Promise<Account> {
  const account = request.session && (await findAccount(identityDeps(services), request.tenant!, request.session.accountId));
  if (!account) throw new TesseraError("session.required", "no session", { status: 401 });
  return account;
}

/**
 * Who may add a passkey: a signed-in user, at the level `levelToManageFactors` asks for.
 */
async function registrant(services: WebServices, request: FastifyRequest): Promise<Account> {
  if (!offersPasskeys(request.tenant!)) {
    throw new TesseraError("passkey.not_allowed", "the tenant does not offer passkeys", { status: 403 });
  }
  const account = await sessionAccount(services, request);
  requireLevel(request.session ?? undefined, await levelToManageFactors(identityDeps(services), request.tenant!, account));
  return account;
}
