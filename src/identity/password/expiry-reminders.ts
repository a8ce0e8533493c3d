import { enqueueMessage } from "../../messaging/outbox.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { IdentityDeps } from "../deps.ts";
import { formatDate } from "../../shared/i18n/dates.ts";

const DAY = 86_400_000;

/**
 * E-mails the holders of passwords about to expire, on each of the tenant's reminder days
 * (default 15, 7 and 1 days before). Safe to run often and on every node: each reminder has a
 * dedupe key (account, password, day), so it is queued once whoever runs the job. A password found
 * late gets only the nearest reminder still ahead of it, not every one it missed.
 * Returns the number of reminders queued.
 */
export async function sendPasswordExpiryReminders(deps: IdentityDeps, tenant: Tenant): Promise<number> {
  const policy = tenant.policy.password;
  if (policy.maxAgeDays === null || policy.reminderDays.length === 0) return 0;
  const now = deps.clock.now();
  const maxAge = policy.maxAgeDays * DAY;
  const days = [...policy.reminderDays].sort((a, b) => a - b);
  const furthest = days[days.length - 1]! * DAY;
  // Passwords expiring in (now, now + furthest]: set in (now − maxAge, now − maxAge + furthest].
  const due = await deps.repos.accounts.passwordsSetBetween(tenant.id, now - maxAge + 1, now - maxAge + furthest + 1);

  let queued = 0;
  for (const account of due) {
    if (account.state !== "active" || !account.email) continue;
    const expiresAt = account.password_set_at + maxAge;
    const remaining = expiresAt - now;
    const day = days.find((d) => remaining <= d * DAY);
    if (day === undefined) continue;
    const locale = (account.locale as Tenant["defaultLocale"] | null) ?? tenant.defaultLocale;
    const inserted = await enqueueMessage(deps, {
      tenant,
      channel: "email",
      to: account.email,
      template: "password_expiry",
      locale,
      params: {
        name: account.given_name ?? account.identifier,
        date: formatDate(expiresAt, locale, tenant.policy.timeZone, "date"),
        days: Math.ceil(remaining / DAY),
      },
      dedupeKey: `password-expiry:${account.id}:${account.password_set_at}:${day}`,
    });
    if (inserted) queued++;
  }
  return queued;
}
