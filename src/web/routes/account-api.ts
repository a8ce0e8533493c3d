import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { rewrapCredentials } from "../../flows/professionals/credentials.ts";
import { applicationsOf, withdrawApplication } from "../../federation/applications.ts";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { listConsents } from "../../identity/consents.ts";
import { generateRecoveryCodes } from "../../identity/recovery-codes.ts";
import {
  accessHistory,
  changePassword,
  exportPersonalData,
  factorsOf,
  profileOf,
  removeFactor,
  setLoginNotifications,
  withdrawMarketing,
} from "../../identity/self-service.ts";
import { listSessions, revokeAllSessions, revokeSession } from "../../identity/sessions.ts";
import { TesseraError } from "../../shared/errors.ts";
import { requireFactorSession, requireFreshSession } from "../fresh-session.ts";
import { needsLevel } from "../plugins/session.ts";
import { actorOf, identityDeps, inTransaction, type WebServices } from "../services.ts";
import { parseBody } from "../validate.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The self-service panel as JSON (`Authorization: Bearer <token>` from a login flow): reading
 * needs a session; every change needs a recent one (`session.reauthMinutes`) and is audited.
 * Changes that need a confirmation code (contacts, authenticator app, suspension, revocation)
 * are settings flows (docs/api.md).
 */
export function accountApiRoutes(services: WebServices) {
  const accountOf = async (request: FastifyRequest): Promise<Account> => {
    const account = await findAccount(identityDeps(services), request.tenant!, request.session!.accountId);
    if (!account) throw new TesseraError("session.required", "no account", { status: 401 });
    return account;
  };
  /** A change: a recent sign-in (at level 2 for factors, see levelToManageFactors), then the work in one transaction. */
  const change = async <T>(
    request: FastifyRequest,
    work: (deps: ReturnType<typeof identityDeps>, account: Account) => Promise<T>,
    options: { factors?: boolean } = {},
  ): Promise<T> => {
    if (options.factors) await requireFactorSession(services, request);
    else requireFreshSession(services, request);
    const account = await accountOf(request);
    return inTransaction(services, (deps) => work(deps, account));
  };

  return async (app: FastifyInstance) => {
    app.addHook("preHandler", needsLevel(1));

    app.get("/", async (request) => profileOf(await accountOf(request)));

    app.get("/factors", async (request) => {
      const f = await factorsOf(identityDeps(services), await accountOf(request));
      return {
        authenticator_apps: f.totp.map((t) => ({ id: t.id, added_at: iso(t.createdAt), ...(t.expiresAt !== null ? { expires_at: iso(t.expiresAt) } : {}) })),
        ...(request.tenant!.policy.factors.secondFactors.includes("upstream") ? { spid_cie: f.upstream } : {}),
        passkeys: f.passkeys.map((p) => ({ id: p.id, name: p.name, added_at: iso(p.createdAt), last_used_at: iso(p.lastUsedAt), synced: p.synced })),
        recovery_codes_left: f.recoveryCodes,
        sms: f.sms,
      };
    });

    app.post("/password", async (request, reply) => {
      const { password, current_password } = parseBody(z.object({ password: z.string().min(1).max(256), current_password: z.string().max(256).optional() }), request.body);
      await change(request, async (deps, account) => {
        await rewrapCredentials({ ...deps, pki: services.pki }, request.tenant!, account, current_password, password, actorOf(request));
        await changePassword(deps, request.tenant!, account, password, actorOf(request), request.session!.id);
      });
      return reply.code(204).send();
    });

    app.get("/sessions", async (request) => {
      const sessions = await listSessions(identityDeps(services), request.tenant!, await accountOf(request));
      return sessions.map((s) => ({
        id: s.id,
        current: s.id === request.session!.id,
        level: s.level,
        acr: s.acr,
        ip: s.ip,
        user_agent: s.userAgent,
        created_at: iso(s.createdAt),
        last_seen_at: iso(s.lastSeenAt),
      }));
    });

    app.delete<{ Params: { id: string } }>("/sessions/:id", async (request, reply) => {
      const revoked = await change(request, (deps, account) => revokeSession(deps, request.tenant!, account, request.params.id, actorOf(request)));
      if (!revoked) throw new TesseraError("session.not_found", "no such session", { status: 404 });
      return reply.code(204).send();
    });

    app.delete("/sessions", async (request) => {
      const count = await change(request, (deps, account) => revokeAllSessions(deps, request.tenant!, account, actorOf(request), request.session!.id));
      return { revoked: count };
    });

    app.get("/history", async (request) => {
      const history = await accessHistory(identityDeps(services), request.tenant!, await accountOf(request));
      return history.map((h) => ({ at: iso(h.at), ip: h.ip, level: h.level, methods: h.methods, service: h.service }));
    });

    app.put("/notifications", async (request) => {
      const { login } = parseBody(z.object({ login: z.boolean() }), request.body);
      await change(request, (deps, account) => setLoginNotifications(deps, request.tenant!, account, login, actorOf(request)));
      return { login };
    });

    app.delete<{ Params: { kind: string; id: string } }>("/factors/:kind/:id", async (request, reply) => {
      const kind = request.params.kind === "totp" || request.params.kind === "passkey" ? request.params.kind : undefined;
      if (!kind) throw new TesseraError("factor.not_found", "no such factor", { status: 404 });
      await change(request, (deps, account) => removeFactor(deps, request.tenant!, account, { kind, id: request.params.id }, actorOf(request)), { factors: true });
      return reply.code(204).send();
    });

    app.post("/recovery-codes", async (request) => {
      const codes = await change(request, (deps, account) => generateRecoveryCodes(deps, request.tenant!, account, actorOf(request)), { factors: true });
      return { codes };
    });

    app.get("/applications", async (request) => {
      const account = await accountOf(request);
      return (await applicationsOf(identityDeps(services), request.tenant!, account.id)).map((a) => ({
        client_id: a.id,
        protocol: a.protocol,
        name: a.name,
        scope: a.scope,
        claims: a.claims,
        given_at: iso(a.givenAt),
        updated_at: iso(a.updatedAt),
      }));
    });

    app.delete<{ Params: { clientId: string } }>("/applications/:clientId", async (request, reply) => {
      const withdrawn = await change(request, (deps, account) => withdrawApplication(deps, request.tenant!, account.id, request.params.clientId, actorOf(request)));
      if (!withdrawn) throw new TesseraError("client.not_found", "no consent to that application", { status: 404 });
      return reply.code(204).send();
    });

    app.get("/consents", async (request) => {
      const consents = await listConsents(identityDeps(services), await accountOf(request));
      return consents.map((c) => ({ purpose: c.purpose, version: c.version, granted: c.granted, given_at: iso(c.givenAt), withdrawn_at: iso(c.withdrawnAt) }));
    });

    app.post("/consents/marketing/withdraw", async (request) => {
      const withdrawn = await change(request, (deps, account) => withdrawMarketing(deps, request.tenant!, account, actorOf(request)));
      return { withdrawn };
    });

    app.get("/export", async (request, reply) => {
      const data = await exportPersonalData(identityDeps(services), request.tenant!, await accountOf(request));
      return reply.header("content-disposition", `attachment; filename="${request.tenant!.id}-personal-data.json"`).send(data);
    });
  };
}
