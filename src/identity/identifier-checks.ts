import { recordAuditBy } from "../audit/service.ts";
import type { FieldIssue } from "../shared/errors.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import { translator } from "../shared/i18n/translate.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { AttemptStore } from "./brute-force.ts";
import type { Actor, IdentityDeps } from "./deps.ts";

/**
 * Checks whose answer tells whether an identifier is someone's, where the seeds show it on
 * purpose: the e-mail address chosen as SPID user ID at enrolment ("one already used cannot be
 * chosen", seed 000), a codice fiscale that already has an identity, a new e-mail address (the
 * user ID) in the self-service panel. Each is a way to learn who has an account, so:
 *
 * - a submission that may reach the check books it first, against its flow and its client
 *   address, outside any transaction (`book`); past the tenant's limits
 *   (`lockout.identifierChecksPerFlow`, `lockout.identifierChecksPerIp` per `ipWindowMinutes`)
 *   it is refused before anything is looked up;
 * - a submission that stopped before the check (a weak password, an unsolved captcha) gives its
 *   booking back (`settle`): people correcting their form are not counted, only answers given;
 * - every "taken" answer is audited (`auditTaken`), naming the holder, the flow and the address.
 */
/** The step asking: what its context has of the tenant, the flow, the client and its language. */
export interface CheckContext {
  tenant: Tenant;
  flow: { id: string };
  by: { ip?: string | null };
  locale: Locale;
}

const FLOW_MEMORY_MS = 86_400_000;

const keys = (c: CheckContext) => ({ flow: `idcheck-flow:${c.tenant.id}:${c.flow.id}`, ip: `idcheck-ip:${c.tenant.id}:${c.by.ip ?? "unknown"}` });

export function identifierChecks(outside: { attempts: AttemptStore; clockNow(): number }) {
  const { attempts } = outside;

  /** After the step: `checked` tells whether it got as far as the check; if not, the booking is given back. */
  async function settle(ctx: CheckContext, checked: boolean): Promise<void> {
    if (checked) return;
    const k = keys(ctx);
    await attempts.giveBack({ forgive: [k.ip, k.flow] }, outside.clockNow());
  }

  /** Books one check; the issue to show on `field` when the limits are used up, else null. */
  async function book(ctx: CheckContext, field: string): Promise<FieldIssue[] | null> {
    const policy = ctx.tenant.policy.lockout;
    const k = keys(ctx);
    const now = outside.clockNow();
    const ipWindowMs = policy.ipWindowMinutes * 60_000;
    const ip = await attempts.recordFailure(k.ip, now, ipWindowMs);
    const flow = await attempts.recordFailure(k.flow, now, FLOW_MEMORY_MS);
    if (ip.failures <= policy.identifierChecksPerIp && flow.failures <= policy.identifierChecksPerFlow) return null;
    // Refused: nothing was checked, so nothing stays booked.
    await settle(ctx, false);
    const until = ip.failures > policy.identifierChecksPerIp ? ip.windowStartedAt + ipWindowMs : flow.windowStartedAt + FLOW_MEMORY_MS;
    const minutes = Math.max(1, Math.ceil((until - now) / 60_000));
    return [{ field, code: "identifier.checks_exhausted", message: translator(ctx.locale)("identifier.checks_exhausted", { minutes }), params: { minutes } }];
  }

  return { book, settle };
}

export type IdentifierChecks = ReturnType<typeof identifierChecks>;

/** A check answered "taken": in the audit log, under the holder, inside the step's transaction. */
export async function auditTaken(
  deps: IdentityDeps,
  tenant: Tenant,
  by: Actor,
  check: { holder: string; field: string; flowId: string },
): Promise<void> {
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "identifier.taken_shown",
    subject: check.holder,
    data: { field: check.field, flow: check.flowId },
  });
}
