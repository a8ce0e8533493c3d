import { recordAuditBy } from "../audit/service.ts";
import { TesseraError } from "../shared/errors.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";

/**
 * Staff who verify identities (seed 000): a registration officer works at one registration point
 * (an "InfoCert Point") and decides the in-person cases of that point; a video operator holds the
 * video sessions; a supervisor confirms decisions where the tenant wants four eyes, and sees
 * every queue. A desk officer (seed 002: "un puesto corporativo") works at one of the
 * professionals' desks and records the requests of those they identified there. Operators are
 * accounts of the tenant and sign in like anyone, at level 2.
 */
export const OPERATOR_ROLES = ["registration_officer", "video_operator", "supervisor", "desk_officer"] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export interface OperatorRoleGrant {
  role: OperatorRole;
  /** The registration point of a registration officer, the desk of a desk officer. */
  point: string | null;
}

export interface Operator {
  accountId: string;
  roles: OperatorRoleGrant[];
}

export function hasRole(operator: Operator, role: OperatorRole, point?: string | null): boolean {
  return operator.roles.some((r) => r.role === role && (point === undefined || r.point === point));
}

/** The staff roles of an account, or undefined when it has none. */
export async function operatorOf(deps: IdentityDeps, tenant: Tenant, accountId: string): Promise<Operator | undefined> {
  const rows = await deps.repos.proofing.operatorRoles(tenant.id, accountId);
  if (rows.length === 0) return undefined;
  return { accountId, roles: rows.map((r) => ({ role: r.role as OperatorRole, point: r.point })) };
}

/** Gives an account a staff role; a registration officer needs one of the tenant's points. */
export async function grantOperatorRole(deps: IdentityDeps, tenant: Tenant, account: Account, grant: OperatorRoleGrant, by: Actor): Promise<void> {
  // Registration officers work at a registration point (proofing), desk officers at a desk (professionals).
  const places = grant.role === "registration_officer" ? (tenant.policy.enrolment?.points ?? []) : grant.role === "desk_officer" ? tenant.policy.professionals.desks : undefined;
  if (places) {
    if (!grant.point || !places.some((p) => p.id === grant.point)) {
      throw new TesseraError("operator.invalid_point", `a ${grant.role.replace("_", " ")} works at one of the tenant's ${grant.role === "desk_officer" ? "desks" : "points"}: ${places.map((p) => p.id).join(", ") || "none"}`);
    }
  } else if (grant.point) {
    throw new TesseraError("operator.invalid_point", `a ${grant.role} is not bound to a point`);
  }
  if (account.state !== "active") throw new TesseraError("operator.inactive", "only an active account can be an operator", { status: 409 });
  await deps.repos.atomically(async (repos) => {
    await repos.proofing.putOperator({ tenant_id: tenant.id, account_id: account.id, role: grant.role, point: grant.point, created_at: deps.clock.now() });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "operator.granted", subject: account.id, data: { ...grant } });
  });
}

export async function revokeOperatorRole(deps: IdentityDeps, tenant: Tenant, account: Account, role: OperatorRole, by: Actor): Promise<boolean> {
  return deps.repos.atomically(async (repos) => {
    const removed = await repos.proofing.removeOperator(tenant.id, account.id, role);
    if (removed) await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "operator.revoked", subject: account.id, data: { role } });
    return removed;
  });
}
