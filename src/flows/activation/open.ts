import { recordAuditBy } from "../../audit/service.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import type { OtpChannel } from "../../identity/otp.ts";
import { TesseraError } from "../../shared/errors.ts";
import { newToken } from "../../shared/ids.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { newFlowRow } from "../engine.ts";
import { type Flow, flowFromRow } from "../flow.ts";
import { ACTIVATION, type ActivationData, linkInput } from "./data.ts";

export interface ActivationLink {
  flowId: string;
  /** The secret half of the link; only its MAC is stored. */
  token: string;
  expiresAt: number;
}

/**
 * Opens the account's activation (seed 002, step 1: the e-mail with the link), in the caller's
 * transaction: a flow that lives as long as the policy's `activationLinkHours`, replacing any the
 * account had (a newer link is the one that works). Its codes go to `channel`.
 */
export async function openActivation(deps: IdentityDeps, tenant: Tenant, account: Account, channel: OtpChannel, by: Actor): Promise<ActivationLink> {
  const now = deps.clock.now();
  const replaced = await deps.repos.flows.deleteOpen(tenant.id, account.id, ACTIVATION);
  const token = newToken();
  const expiresAt = now + tenant.policy.professionals.activationLinkHours * 3_600_000;
  const row = newFlowRow<ActivationData>(tenant, { kind: ACTIVATION, firstStep: "code", initialTtlMs: 0, steps: {} }, "browser", { link: "", channel }, { accountId: account.id, now, expiresAt });
  row.data = JSON.stringify({ link: deps.secrets.mac(linkInput(row.id, token)), channel } satisfies ActivationData);
  await deps.repos.flows.insert(row);
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "activation.opened", subject: account.id, data: { flow: row.id, expiresAt, replaced } });
  return { flowId: row.id, token, expiresAt };
}

/**
 * The activation an e-mailed link opens: the token must be the link's, and the flow live (a
 * finished one is returned, to show its result). An unknown, replaced or expired link is told
 * apart only as far as the holder can act on it: ask for a new one.
 */
export async function activationOfLink(deps: IdentityDeps, tenant: Tenant, flowId: string, token: string): Promise<Flow<ActivationData>> {
  const row = await deps.repos.flows.find(tenant.id, flowId);
  const flow = row && row.kind === ACTIVATION ? flowFromRow<ActivationData>(row) : undefined;
  if (!flow || !deps.secrets.macEquals(linkInput(flow.id, token), flow.data.link)) {
    throw new TesseraError("activation.link_invalid", "this activation link is not valid, or a newer one replaced it", { status: 404 });
  }
  if (flow.state === "active" && flow.expiresAt <= deps.clock.now()) throw new TesseraError("activation.link_expired", "this activation link has expired", { status: 410 });
  return flow;
}
