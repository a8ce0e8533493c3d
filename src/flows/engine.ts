import { timingSafeEqual } from "node:crypto";
import { recordAuditBy } from "../audit/service.ts";
import type { AttemptStore } from "../identity/brute-force.ts";
import type { Actor } from "../identity/deps.ts";
import type { Clock } from "../shared/clock.ts";
import type { Secrets } from "../shared/crypto/secrets.ts";
import { TesseraError, ValidationError } from "../shared/errors.ts";
import { newId, newToken } from "../shared/ids.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import type { Store } from "../store/db.ts";
import type { FlowRow } from "../store/repos/flows.ts";
import type { Tenant } from "../tenants/tenant.ts";
import {
  type Flow,
  type FlowChannel,
  type FlowDefinition,
  flowFromRow,
  type StepContext,
  type AnyStep,
  type StepOutcome,
  StepRejection,
} from "./flow.ts";

export interface FlowServices {
  store: Store;
  clock: Clock;
  secrets: Secrets;
  attempts: AttemptStore;
}

export async function createFlow<D extends object>(
  services: FlowServices,
  tenant: Tenant,
  definition: FlowDefinition<D>,
  channel: FlowChannel,
  data: D,
  options: { step?: string; accountId?: string } = {},
): Promise<Flow<D>> {
  const row = newFlowRow(tenant, definition, channel, data, { ...options, now: services.clock.now() });
  await services.store.repos.flows.insert(row);
  return flowFromRow<D>(row);
}

/**
 * A new flow's row, for `createFlow` or for a caller that stores it in a transaction of its own
 * (a flow opened by someone else's decision, such as an activation). `expiresAt` replaces the
 * definition's initial lifetime.
 */
export function newFlowRow<D extends object>(
  tenant: Tenant,
  definition: Pick<FlowDefinition<D>, "kind" | "firstStep" | "initialTtlMs" | "steps">,
  channel: FlowChannel,
  data: D,
  options: { step?: string; accountId?: string; now: number; expiresAt?: number },
): FlowRow {
  if (options.step !== undefined && !definition.steps[options.step]) throw new TypeError(`no step ${options.step} in ${definition.kind}`);
  return {
    id: newId(),
    tenant_id: tenant.id,
    kind: definition.kind,
    channel,
    state: "active",
    step: options.step ?? definition.firstStep,
    data: JSON.stringify(data),
    csrf_token: newToken(),
    account_id: options.accountId ?? null,
    created_at: options.now,
    updated_at: options.now,
    expires_at: options.expiresAt ?? options.now + definition.initialTtlMs,
  };
}

/**
 * Creates a flow and, when the step it starts at is `automatic`, runs that step at once. The
 * outcome is that step's: a notice such as "a code was sent", or a refusal such as a send limit,
 * after which the flow is gone.
 */
export async function startFlow<D extends object>(
  services: FlowServices,
  tenant: Tenant,
  definition: FlowDefinition<D>,
  data: D,
  options: { step?: string; accountId?: string },
  context: Omit<Submission, "step" | "input" | "csrfToken" | "viaEmailLink">,
): Promise<{ flow: Flow<D>; outcome?: StepOutcome<D> }> {
  const flow = await createFlow(services, tenant, definition, context.channel, data, options);
  if (!definition.steps[flow.step!]!.automatic) return { flow };
  const started = await submitStep(services, tenant, definition, flow.id, { ...context, step: flow.step!, input: {}, csrfToken: flow.csrfToken }, flow);
  // Refused before it began (a send limit): no flow is left behind to be continued.
  if (started.outcome.type === "reject") await services.store.repos.flows.delete(flow.id);
  return started;
}

/** A live flow of the tenant (of `kind`, if given), or the error that says why not (unknown, expired). */
export async function loadFlow<D extends object>(services: FlowServices, tenant: Tenant, kind: string | undefined, id: string): Promise<Flow<D>> {
  const row = await services.store.repos.flows.find(tenant.id, id);
  return checkLive(services, row && (kind === undefined || row.kind === kind) ? flowFromRow<D>(row) : undefined);
}

function checkLive<D extends object>(services: FlowServices, flow: Flow<D> | undefined): Flow<D> {
  if (!flow) throw new TesseraError("flow.not_found", "no such flow", { status: 404 });
  if (flow.state === "active" && flow.expiresAt <= services.clock.now()) {
    throw new TesseraError("flow.expired", `flow ${flow.id} expired`, { status: 410 });
  }
  return flow;
}

export interface Submission {
  step: string;
  input: unknown;
  channel: FlowChannel;
  /** Browser flows: the token from the form, which must be the flow's. */
  csrfToken?: string | undefined;
  /**
   * The request proves itself another way and may come from any browser or client: a code from
   * an e-mail link. Skips the channel and CSRF checks, nothing else.
   */
  viaEmailLink?: boolean;
  by: Actor;
  locale: Locale;
  tenantUrl: string;
  userAgent?: string | null;
}

/**
 * Runs one step of a flow. In order: the flow is live and of this channel, the CSRF token matches
 * (browser flows), the step is the current one (or one that may be re-opened from it), the input
 * passes the step's schema; then the step's gate and its slow preparation (outside any
 * transaction), its handler and the flow's new state in one transaction (the flow row locked),
 * one audit entry, and its settle.
 * User errors come back as a `reject` outcome, after the transaction has committed what the
 * handler counted (attempts); nothing else is written.
 */
export async function submitStep<D extends object>(
  services: FlowServices,
  tenant: Tenant,
  definition: FlowDefinition<D>,
  flowId: string,
  submission: Submission,
  /** The flow as this request has just created it: not read again (it is, under the lock, below). */
  created?: Flow<D>,
): Promise<{ flow: Flow<D>; outcome: StepOutcome<D> }> {
  const before = created?.id === flowId ? created : await loadFlow<D>(services, tenant, definition.kind, flowId);
  const step = checkSubmission(definition, before, submission);
  const parsed = step.input.safeParse(submission.input);
  if (!parsed.success) {
    throw new ValidationError(
      "validation_failed",
      parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(input)", code: `invalid.${i.code}`, message: i.message })),
    );
  }
  const input: unknown = parsed.data;
  const outside = {
    tenant,
    flow: before,
    by: submission.by,
    locale: submission.locale,
    tenantUrl: submission.tenantUrl,
    userAgent: submission.userAgent ?? null,
  };
  const refused = await step.gate?.(outside, input);
  if (refused) return { flow: before, outcome: { type: "reject", errors: refused } };
  const deps = { repos: services.store.repos, clock: services.clock, secrets: services.secrets };
  let prepared: unknown;
  let result: { flow: Flow<D>; outcome: StepOutcome<D> };
  try {
    prepared = await step.prepare?.({ ...outside, deps }, input);
    result = await services.store
      .transaction(async (repos) => {
      // Again, under the row lock: another request may have moved the flow on meanwhile.
      const row = await repos.flows.find(tenant.id, flowId);
      const flow = checkLive(services, row && flowFromRow<D>(row));
      checkSubmission(definition, flow, submission);
      const ctx: StepContext<D> = { ...outside, flow, deps: { ...deps, repos } };
      const outcome: StepOutcome<D> = await step.handle(ctx, input, prepared);
      const updated = applyOutcome(flow, outcome, services.clock.now());
      await repos.flows.update(flow.id, {
        state: updated.state,
        step: updated.step,
        data: JSON.stringify(updated.data),
        account_id: updated.accountId,
        updated_at: updated.updatedAt,
        expires_at: updated.expiresAt,
      });
      if (outcome.type !== "reject") {
        await recordAuditBy(repos, services.clock, submission.by, {
          tenantId: tenant.id,
          type: `${definition.kind}.${step.name}`,
          subject: updated.accountId,
          data: { flow: flow.id, outcome: outcome.type, ...(outcome.type === "advance" ? { to: outcome.to } : {}), ...(outcome.type === "finish" ? { state: outcome.state } : {}) },
        });
      }
      return { flow: updated, outcome };
      })
      .catch((err: unknown) => {
        // Rolled back: the flow is as it was before the step.
        if (err instanceof StepRejection) return { flow: before, outcome: { type: "reject" as const, errors: err.errors } };
        throw err;
      });
  } catch (err) {
    // No outcome: give back what the gate booked (best effort: with the store gone, it stays booked).
    await step.withdraw?.(outside, input).catch(() => undefined);
    throw err;
  }
  await step.settle?.({ ...outside, flow: result.flow }, input, result.outcome, prepared);
  return result;
}

function checkSubmission<D extends object>(definition: FlowDefinition<D>, flow: Flow<D>, submission: Submission): AnyStep<D> {
  if (flow.state !== "active" || flow.step === null) {
    throw new TesseraError("flow.finished", `flow ${flow.id} is ${flow.state}`, { status: 409 });
  }
  if (!submission.viaEmailLink) {
    if (flow.channel !== submission.channel) {
      throw new TesseraError("flow.wrong_channel", `flow ${flow.id} belongs to the ${flow.channel} channel`, { status: 403 });
    }
    if (flow.channel === "browser" && !tokensEqual(submission.csrfToken, flow.csrfToken)) {
      throw new TesseraError("flow.csrf", "the form's security token does not match", { status: 403 });
    }
  }
  const step = definition.steps[submission.step];
  const current = flow.step;
  if (!step || (step.name !== current && !step.reachableFrom?.includes(current))) {
    throw new TesseraError("flow.wrong_step", `step ${submission.step} submitted while the flow is at ${current}`, {
      status: 409,
      params: { step: current },
    });
  }
  return step;
}

function tokensEqual(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? "");
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function applyOutcome<D extends object>(flow: Flow<D>, outcome: StepOutcome<D>, now: number): Flow<D> {
  const data = outcome.data ? ({ ...flow.data, ...outcome.data }) : flow.data;
  const base = { ...flow, data, updatedAt: now };
  switch (outcome.type) {
    case "advance":
      return {
        ...base,
        step: outcome.to,
        accountId: outcome.accountId ?? flow.accountId,
        expiresAt: outcome.expiresAt ?? flow.expiresAt,
      };
    case "finish":
      return { ...base, state: outcome.state, step: null };
    default:
      return base;
  }
}

/**
 * Binds a flow to a new browser or client: a new CSRF token (which the browser receives in a
 * cookie and its forms) and the channel it is resumed on.
 */
export async function rebindFlow<D extends object>(services: FlowServices, flow: Flow<D>, channel: FlowChannel): Promise<Flow<D>> {
  const csrfToken = newToken();
  await services.store.repos.flows.update(flow.id, { channel, csrf_token: csrfToken, updated_at: services.clock.now() });
  return { ...flow, channel, csrfToken };
}

