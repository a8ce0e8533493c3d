import { createHash } from "node:crypto";
import { recordAuditBy } from "../audit/service.ts";
import { TesseraError } from "../shared/errors.ts";
import { newId, newToken } from "../shared/ids.ts";
import type { SessionRow } from "../store/repos/sessions.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Account, type AccountState, accountFromRow } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { EIDAS_LOA, type Level, SPID_ACR, withMfa } from "./levels.ts";

/**
 * Server-side sessions. The browser holds a random 256-bit token; the store holds its SHA-256
 * only. A session ends after the tenant's idle time without use and, whatever the use, after its
 * absolute lifetime. The token changes at sign-in (a new session) and at every change of level
 * (`elevateSession`), so a token planted before authentication is worthless after it.
 */
export interface Session {
  id: string;
  /** SHA-256 of the token the session was found by (never the token itself). */
  tokenHash: string;
  tenantId: string;
  accountId: string;
  level: Level;
  acr: string;
  eidasLoa: string;
  amr: string[];
  createdAt: number;
  authenticatedAt: number;
  lastSeenAt: number;
  expiresAt: number;
  /** When idleness will end it, if unused until then. */
  idleExpiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

/** A session as a request found it, with its account as read along with it (in the same statement). */
export interface FoundSession extends Session {
  account: Account;
}

/** Sessions are touched at most this often: a write per request would cost more than it tells. */
const TOUCH_EVERY_MS = 60_000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

function sessionFromRow(tenant: Tenant, row: SessionRow): Session {
  const level = row.level as Level;
  return {
    id: row.id,
    tokenHash: row.token_hash,
    tenantId: row.tenant_id,
    accountId: row.account_id,
    level,
    acr: SPID_ACR[level],
    eidasLoa: EIDAS_LOA[level],
    amr: JSON.parse(row.amr) as string[],
    createdAt: row.created_at,
    authenticatedAt: row.authenticated_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    idleExpiresAt: Math.min(row.expires_at, row.last_seen_at + tenant.policy.session.idleMinutes * 60_000),
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

export interface NewSession {
  level: Level;
  amr: string[];
  ip?: string | null;
  userAgent?: string | null;
}

/** A new session's row, and the token it answers to (the row keeps only the token's hash). */
export function newSessionRow(tenant: Tenant, accountId: string, input: NewSession, now: number): { row: SessionRow; token: string } {
  const token = newToken();
  const row: SessionRow = {
    id: newId(),
    token_hash: hashToken(token),
    tenant_id: tenant.id,
    account_id: accountId,
    level: input.level,
    amr: JSON.stringify(input.amr),
    created_at: now,
    authenticated_at: now,
    last_seen_at: now,
    expires_at: now + tenant.policy.session.absoluteHours * 3_600_000,
    ip: input.ip ?? null,
    user_agent: input.userAgent?.slice(0, 400) ?? null,
  };
  return { row, token };
}

const LAST_USE_PRECISION_MS = 3_600_000;

export async function createSession(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  input: NewSession,
  by: Actor,
): Promise<{ session: Session; token: string }> {
  const now = deps.clock.now();
  const { row, token } = newSessionRow(tenant, account.id, input, now);
  await deps.repos.sessions.insert(row);
  // The last use decides revocation for inactivity, months away: to the hour is precise enough,
  // and it spares the morning's second and later sign-ins a write.
  if (account.lastUsedAt === null || now - account.lastUsedAt >= LAST_USE_PRECISION_MS) {
    await deps.repos.accounts.update(tenant.id, account.id, { last_used_at: now });
  }
  await audit(deps, tenant, "session.created", account.id, by, { session: row.id, level: input.level, amr: input.amr });
  return { session: sessionFromRow(tenant, row), token };
}

/** States in which an account may hold a session (awaiting proofing: to follow the request). */
const SESSION_STATES: readonly AccountState[] = ["active", "awaiting_proofing"];

/**
 * The live session a token stands for, or undefined: unknown, expired, idle too long, or of an
 * account that can no longer sign in. Expired sessions are deleted on sight.
 */
export async function findSession(deps: IdentityDeps, tenant: Tenant, token: string): Promise<FoundSession | undefined> {
  const found = await deps.repos.sessions.byTokenHashWithAccount(tenant.id, hashToken(token));
  if (!found) return undefined;
  const { session: row, account } = found;
  const now = deps.clock.now();
  const session = sessionFromRow(tenant, row);
  if (now >= session.idleExpiresAt || !account || !SESSION_STATES.includes(account.state as AccountState)) {
    await deps.repos.sessions.delete(row.account_id, row.id);
    return undefined;
  }
  if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
    await deps.repos.sessions.touch(row.id, now);
    session.lastSeenAt = now;
    session.idleExpiresAt = Math.min(session.expiresAt, now + tenant.policy.session.idleMinutes * 60_000);
  }
  return { ...session, account: accountFromRow(account) };
}

/**
 * Records a further authentication in the session: the level rises (never falls), the methods
 * join `amr`, and the session gets a new token, which the caller must hand to the client.
 */
export async function elevateSession(
  deps: IdentityDeps,
  tenant: Tenant,
  session: Session,
  input: { level: Level; amr: string[] },
  by: Actor,
): Promise<{ session: Session; token: string }> {
  const now = deps.clock.now();
  const token = newToken();
  const level = Math.max(session.level, input.level) as Level;
  const amr = withMfa([...session.amr, ...input.amr]);
  const tokenHash = hashToken(token);
  const rotated = await deps.repos.sessions.rotate(session.id, session.tokenHash, {
    token_hash: tokenHash,
    level,
    amr: JSON.stringify(amr),
    authenticated_at: now,
    last_seen_at: now,
  });
  if (!rotated) throw new TesseraError("session.required", "the session was revoked or rotated meanwhile", { status: 401 });
  await audit(deps, tenant, "session.elevated", session.accountId, by, { session: session.id, from: session.level, to: level, amr });
  const updated = { ...session, tokenHash, level, acr: SPID_ACR[level], eidasLoa: EIDAS_LOA[level], amr, authenticatedAt: now, lastSeenAt: now };
  updated.idleExpiresAt = Math.min(updated.expiresAt, now + tenant.policy.session.idleMinutes * 60_000);
  return { session: updated, token };
}

export async function listSessions(deps: IdentityDeps, tenant: Tenant, account: Account): Promise<Session[]> {
  const now = deps.clock.now();
  return (await deps.repos.sessions.byAccount(account.id))
    .map((row) => sessionFromRow(tenant, row))
    .filter((s) => now < s.idleExpiresAt);
}

export async function revokeSession(deps: IdentityDeps, tenant: Tenant, account: Account, sessionId: string, by: Actor): Promise<boolean> {
  const revoked = (await deps.repos.sessions.delete(account.id, sessionId)) > 0;
  if (revoked) await audit(deps, tenant, "session.revoked", account.id, by, { session: sessionId });
  return revoked;
}

/** Ends every session of the account but `exceptId` (after a password reset, "sign out everywhere"). */
export async function revokeAllSessions(deps: IdentityDeps, tenant: Tenant, account: Account, by: Actor, exceptId?: string): Promise<number> {
  const count = await deps.repos.sessions.deleteAllOf(account.id, exceptId);
  if (count > 0) await audit(deps, tenant, "session.revoked_all", account.id, by, { count, kept: exceptId ?? null });
  return count;
}

/**
 * For steps that need a level: passes when the session has it, else throws the error the web
 * layer turns into a step-up challenge (RFC 9470 `insufficient_user_authentication`).
 */
export function requireLevel(session: Session | undefined, level: Level): asserts session is Session {
  if (!session) throw new TesseraError("session.required", "no session", { status: 401 });
  if (session.level < level) {
    throw new TesseraError("session.step_up_required", `level ${level} needed, session has ${session.level}`, {
      status: 401,
      params: { level, acr: SPID_ACR[level] },
    });
  }
}

function audit(deps: IdentityDeps, tenant: Tenant, type: string, accountId: string, by: Actor, data: Record<string, unknown>) {
  return recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type, subject: accountId, data });
}
