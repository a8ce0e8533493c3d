import type { Clock } from "../shared/clock.ts";
import type { Repos } from "../store/repos/index.ts";
import type { Tenant } from "../tenants/tenant.ts";

const DAY = 86_400_000;

/** Deletes what has outlived its use: expired sessions, spent codes and challenges, old messages. */
export async function purgeExpired(repos: Repos, clock: Clock, tenants: Tenant[]): Promise<void> {
  const now = clock.now();
  for (const tenant of tenants) {
    await repos.sessions.deleteExpired(now, tenant.id, now - tenant.policy.session.idleMinutes * 60_000);
    // A registration never confirmed: its account goes once the confirmation could no longer come
    // (and so does the codice fiscale it held). Enrolments have their own deadline (their job).
    if (tenant.policy.registration.enabled && !tenant.policy.enrolment) {
      await repos.accounts.deleteUnconfirmedBefore(tenant.id, now - tenant.policy.registration.emailConfirmationMinutes * 60_000);
    }
  }
  // One-time codes are kept a day: the hourly send limits look back an hour, investigations longer.
  await repos.otp.deleteOlderThan(now - DAY);
  await repos.factors.deleteExpiredChallenges(now);
  await repos.throttles.deleteIdleSince(now - DAY);
  await repos.outbox.deleteSentBefore(now - 30 * DAY);
  // Login, recovery and settings flows are of no use once expired (enrolments have their own job).
  await repos.flows.deleteExpiredExcept("enrolment", now);
  await repos.jobRuns.deleteStartedBefore(now - 90 * DAY);
  // OpenID Connect: expired codes, tokens, sessions and interactions; keys no longer published.
  await repos.oidcModels.deleteExpired(now);
  await repos.signingKeys.deleteExpired(now);
  // SAML: answered or abandoned requests past the replay window, sessions past their end.
  await repos.saml.deleteExpired(now);
  // Identity proofing: evidence past its retention period (20 years for SPID). Undecided cases' evidence has none yet.
  await repos.proofing.deleteExpiredEvidence(now);
  // Broker: requests to upstream identity providers and the assertions seen, past their time.
  await repos.broker.purgeExpired(now);
  // Signature activations (SAD) past their lifetime sign nothing: what was left of them goes.
  await repos.signing.deleteExpired(now);
}
