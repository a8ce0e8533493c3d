import { recordAuditBy } from "../audit/service.ts";
import { enqueueMessage } from "../messaging/outbox.ts";
import { translator } from "../shared/i18n/translate.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Account, accountFromRow } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { revokeAllSessions } from "./sessions.ts";
import { formatDate } from "../shared/i18n/dates.ts";

/**
 * An identity suspended (it can be reactivated) or revoked (for good), at the holder's request or
 * for inactivity: its sessions end at once and the holder is told by e-mail.
 */
export async function changeAccountState(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  state: "suspended" | "revoked" | "active",
  by: Actor,
  reason: string,
): Promise<void> {
  const now = deps.clock.now();
  await deps.repos.accounts.update(tenant.id, account.id, { state, updated_at: now });
  if (state !== "active") await revokeAllSessions(deps, tenant, account, by);
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: `account.${state}`, subject: account.id, data: { reason, from: account.state } });
  if (account.email) {
    const locale = account.locale ?? tenant.defaultLocale;
    const t = translator(locale);
    await enqueueMessage(deps, {
      tenant,
      channel: "email",
      to: account.email,
      template: "account_state",
      locale,
      params: {
        state: t(`account.state.${state}`),
        date: formatDate(now, locale, tenant.policy.timeZone, "dateTime"),
      },
    });
  }
}

const DAY = 86_400_000;

/**
 * Identities unused for the tenant's `revokeAfterMonths` (SPID: 24) are revoked, after warnings
 * on each of `warnDays` before (90, 30, 10 and 1). Run as often as wished, on every node: each
 * warning has a dedupe key, and a revocation changes the state once. "Unused" counts from the
 * last sign-in, or from activation when there has been none.
 */
export async function processInactiveIdentities(deps: IdentityDeps, tenants: Tenant[]): Promise<{ warned: number; revoked: number }> {
  const now = deps.clock.now();
  let warned = 0;
  let revoked = 0;
  for (const tenant of tenants) {
    const months = tenant.policy.inactivity.revokeAfterMonths;
    if (months === null) continue;
    const cutoff = monthsBefore(now, months);
    const warnDays = [...tenant.policy.inactivity.warnDays].sort((a, b) => a - b);
    const furthest = (warnDays[warnDays.length - 1] ?? 0) * DAY;
    for (const row of await deps.repos.accounts.activeUnusedSince(tenant.id, cutoff + furthest)) {
      const account = accountFromRow(row);
      const lastUse = account.lastUsedAt ?? account.updatedAt;
      const revokeAt = monthsAfter(lastUse, months);
      if (revokeAt <= now) {
        await deps.repos.atomically((repos) => changeAccountState({ ...deps, repos }, tenant, account, "revoked", { actor: "system" }, "inactivity"));
        revoked++;
        continue;
      }
      const day = warnDays.find((d) => revokeAt - now <= d * DAY);
      if (day === undefined || !account.email) continue;
      const locale = account.locale ?? tenant.defaultLocale;
      const queued = await enqueueMessage(deps, {
        tenant,
        channel: "email",
        to: account.email,
        template: "inactivity_warning",
        locale,
        params: {
          days: Math.ceil((revokeAt - now) / DAY),
          date: formatDate(revokeAt, locale, tenant.policy.timeZone, "date"),
        },
        dedupeKey: `inactivity:${account.id}:${lastUse}:${day}`,
      });
      if (queued) warned++;
    }
  }
  return { warned, revoked };
}

function monthsBefore(time: number, months: number): number {
  const d = new Date(time);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.getTime();
}

function monthsAfter(time: number, months: number): number {
  return monthsBefore(time, -months);
}
