import { recordAuditBy } from "../../audit/service.ts";
import type { IdentityDeps } from "../../identity/deps.ts";
import { enqueueMessage } from "../../messaging/outbox.ts";
import type { Locale } from "../../shared/i18n/locales.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { ENROLMENT } from "./data.ts";
import { formatDate } from "../../shared/i18n/dates.ts";

const DAY = 86_400_000;

/**
 * Unfinished identity requests: a reminder e-mail `reminderDaysBefore` days before the deadline
 * (once, whichever node runs the job), then, past the deadline, the request is deleted, with the
 * account it created if that account got no further (never a linked shop account).
 * Returns what was done, for logs and tests.
 */
export async function processExpiringEnrolments(
  deps: IdentityDeps,
  tenants: Tenant[],
  tenantUrl: (tenant: Tenant) => string,
): Promise<{ reminded: number; deleted: number }> {
  const now = deps.clock.now();
  let reminded = 0;
  let deleted = 0;
  for (const tenant of tenants) {
    const policy = tenant.policy.enrolment;
    if (!policy) continue;
    const due = await deps.repos.flows.expiringBetween(ENROLMENT, now, now + policy.reminderDaysBefore * DAY);
    for (const flow of due.filter((f) => f.tenant_id === tenant.id && f.account_id)) {
      const account = await deps.repos.accounts.find(tenant.id, flow.account_id!);
      if (!account?.email) continue;
      const locale = (account.locale as Locale | null) ?? tenant.defaultLocale;
      const queued = await enqueueMessage(deps, {
        tenant,
        channel: "email",
        to: account.email,
        template: "enrolment_reminder",
        locale,
        params: {
          date: formatDate(flow.expires_at, locale, tenant.policy.timeZone, "date"),
          resume_url: `${tenantUrl(tenant)}/enrol/resume`,
        },
        dedupeKey: `enrolment-reminder:${flow.id}`,
      });
      if (queued) reminded++;
    }
  }
  for (const flow of await deps.repos.flows.expiringBetween(ENROLMENT, 0, now)) {
    await deps.repos.atomically(async (repos) => {
      const account = flow.account_id ? await repos.accounts.find(flow.tenant_id, flow.account_id) : undefined;
      await repos.flows.delete(flow.id);
      if (account && account.kind === "identity" && (account.state === "unconfirmed" || account.state === "enrolling")) {
        await repos.accounts.delete(flow.tenant_id, account.id);
      }
      await recordAuditBy(repos, deps.clock, { actor: "system" }, {
        tenantId: flow.tenant_id,
        type: "enrolment.expired",
        subject: account?.id ?? null,
        data: { flow: flow.id, step: flow.step, accountDeleted: account?.state === "unconfirmed" || account?.state === "enrolling" },
      });
    });
    deleted++;
  }
  return { reminded, deleted };
}
