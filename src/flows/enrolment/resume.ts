import { attemptFailed, attemptSucceeded, beginAttempt } from "../../identity/brute-force.ts";
import { normalizeEmail } from "../../identity/identifiers.ts";
import { checkPassword } from "../../identity/password-sign-in.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { type FlowServices, rebindFlow } from "../engine.ts";
import { type Flow, type FlowChannel, flowFromRow } from "../flow.ts";
import { ENROLMENT, type EnrolmentData } from "./data.ts";

/**
 * Comes back to an identity request by signing in with the e-mail address and password chosen
 * in it (seed 000): the request continues where it was left, in this browser or client, which
 * the flow is bound to from now on. A request already submitted is shown as it stands. The
 * sign-in is under brute-force protection like any other, and does the same work for an unknown
 * address as for a known one.
 */
export async function resumeEnrolment(
  services: FlowServices,
  tenant: Tenant,
  credentials: { email: string; password: string },
  client: { ip: string; channel: FlowChannel },
): Promise<Flow<EnrolmentData>> {
  const identifier = normalizeEmail(credentials.email) ?? credentials.email.toLowerCase();
  const subject = { tenantId: tenant.id, identifier, ip: client.ip };
  const gate = await beginAttempt(services.attempts, tenant.policy.lockout, subject, services.clock.now());
  if (!gate.allowed) throw new TesseraError(gate.reason, "sign-in refused", { status: 429, params: gate.params });

  const deps = { repos: services.store.repos, clock: services.clock, secrets: services.secrets };
  const { accountId, verdict } = await checkPassword(deps, tenant, { identifier, password: credentials.password });
  if (!accountId || !verdict.ok) {
    await attemptFailed(services.attempts, tenant.policy.lockout, subject, services.clock.now());
    throw new TesseraError("login.invalid_credentials", "wrong e-mail address or password", { status: 401 });
  }
  await attemptSucceeded(services.attempts, subject, services.clock.now());

  const row = await services.store.repos.flows.latestOf(tenant.id, accountId, ENROLMENT);
  if (!row) throw new TesseraError("enrol.resume.none", "no request for this account", { status: 404 });
  const flow = flowFromRow<EnrolmentData>(row);
  return flow.state === "active" ? rebindFlow(services, flow, client.channel) : flow;
}
