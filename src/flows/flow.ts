import type { z } from "zod";
import type { Actor, IdentityDeps } from "../identity/deps.ts";
import type { FieldIssue } from "../shared/errors.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import type { MessageKey, Translate } from "../shared/i18n/translate.ts";
import type { FlowRow } from "../store/repos/flows.ts";
import type { Tenant } from "../tenants/tenant.ts";

/**
 * A flow is a multi-step process (an enrolment, later a login or a recovery) kept as a stored
 * resource, as Ory Kratos does it: any node can serve any step, a page can be reloaded, and the
 * same flow serves HTML pages and JSON clients. Each step is one typed handler that validates
 * its input and moves the flow on, in one transaction.
 */
export type FlowChannel = "browser" | "api";
export type FlowState = "active" | "awaiting_proofing" | "complete";

export interface Flow<D extends object = Record<string, unknown>> {
  id: string;
  tenantId: string;
  kind: string;
  channel: FlowChannel;
  state: FlowState;
  /** The step awaiting input; null once the flow has ended. */
  step: string | null;
  data: D;
  csrfToken: string;
  accountId: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
}

export function flowFromRow<D extends object>(row: FlowRow): Flow<D> {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    channel: row.channel as FlowChannel,
    state: row.state as FlowState,
    step: row.step,
    data: JSON.parse(row.data) as D,
    csrfToken: row.csrf_token,
    accountId: row.account_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}

/** How a field is shown and what it takes: the same description drives HTML forms and API clients. */
export interface FieldSpec {
  name: string;
  type: "text" | "textarea" | "email" | "password" | "tel" | "date" | "select" | "radio" | "checkbox" | "code" | "captcha";
  required: boolean;
  label: string;
  hint?: string;
  options?: { value: string; label: string; description?: string }[];
  /** What the user entered before (never a secret), to fill the form again. */
  value?: string | boolean;
  autocomplete?: string;
  /** Password rules in force, for live hints. */
  rules?: { rule: string; message: string }[];
  /** The captcha challenge to solve (ALTCHA). */
  challenge?: object;
}

/** What a finished flow hands to the client once: a session (token, level). */
export interface FlowOutput {
  session?: { token: string; id: string; level: number; acr: string; amr: string[]; expiresAt: number };
}

/** A message to show once after a step, such as "a new code was sent". */
export interface Notice {
  code: MessageKey;
  params?: Record<string, string | number>;
}

export type StepOutcome<D> =
  | { type: "advance"; to: string; data?: Partial<D>; accountId?: string; expiresAt?: number; notice?: Notice }
  | { type: "stay"; data?: Partial<D>; notice?: Notice }
  /**
   * `output` goes back to the caller and is never stored (a new session's token): the flow
   * keeps only what it needs to be shown again.
   */
  | { type: "finish"; state: Exclude<FlowState, "active">; data?: Partial<D>; notice?: Notice; output?: FlowOutput }
  /** User errors: nothing changes but what the handler wrote on purpose (attempt counters). */
  | { type: "reject"; errors: FieldIssue[]; data?: Partial<D> };

/**
 * Thrown by a handler to refuse the step and undo everything it wrote: unlike a returned `reject`
 * (which keeps what was counted on purpose, such as a wrong code), nothing of the step remains.
 */
export class StepRejection extends Error {
  override readonly name = "StepRejection";
  constructor(readonly errors: FieldIssue[]) {
    super(errors.map((e) => `${e.field}: ${e.code}`).join("; "));
  }
}

export interface StepContext<D extends object> {
  /** Repos bound to the step's transaction. */
  deps: IdentityDeps;
  tenant: Tenant;
  flow: Flow<D>;
  by: Actor;
  locale: Locale;
  /** The tenant's public base, e.g. https://id.example.org/t/national */
  tenantUrl: string;
  /** The client's User-Agent, kept with a session it opens. */
  userAgent: string | null;
}

export interface ViewContext<D extends object> {
  tenant: Tenant;
  flow: Flow<D>;
  locale: Locale;
  t: Translate;
  deps: IdentityDeps;
}

export interface StepDefinition<D extends object, I = unknown, P = undefined> {
  name: string;
  input: z.ZodType<I>;
  fields(view: ViewContext<D>): Promise<FieldSpec[]> | FieldSpec[];
  /**
   * The step asks nothing (a new secret to make, a code to send): it runs as soon as a flow
   * starts at it (`startFlow`), so that the client first sees what it has to answer.
   */
  automatic?: boolean;
  /** Earlier steps this one may be re-opened from (a wrong mobile number, say). */
  reachableFrom?: string[];
  /**
   * Runs outside the transaction, before it, for checks whose failures must count even if the
   * step fails (brute-force protection). Returns errors to refuse the step.
   */
  gate?(ctx: Omit<StepContext<D>, "deps">, input: I): Promise<FieldIssue[] | null>;
  /**
   * Runs outside the transaction, after the gate, for slow work that needs no lock: checking a
   * password (argon2id: tens of milliseconds on the thread pool). Inside the transaction it would
   * hold the database that long: SQLite's one writer, and a PostgreSQL connection with the flow's
   * row lock, which made sign-ins queue behind each other's hashing. What it returns goes to
   * `handle`, which must check under the lock that it still holds.
   */
  prepare?(ctx: StepContext<D>, input: I): Promise<P>;
  handle(ctx: StepContext<D>, input: I, prepared: P): Promise<StepOutcome<D>>;
  /** Runs after the transaction has committed (the other half of `gate`; what `prepare` made and the outcome did not keep goes here). */
  settle?(ctx: Omit<StepContext<D>, "deps">, input: I, outcome: StepOutcome<D>, prepared: P): Promise<void>;
  /**
   * The step failed after its gate let it through and before it had an outcome (the
   * password-hashing lanes overloaded, the database gone): what the gate booked is given back, as
   * nothing was tried. Without it, a refusal for overload would count as a wrong password.
   */
  withdraw?(ctx: Omit<StepContext<D>, "deps">, input: I): Promise<void>;
}

// A registry holds steps of every input type; each step's handler only ever receives what its own
// schema produced, which the engine guarantees (it parses with that step's schema).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep<D extends object> = StepDefinition<D, any, any>;

/** A flow of any kind, as the generic routes (the JSON API) see it. */
export type AnyFlowDefinition = FlowDefinition<object>;

export interface FlowDefinition<D extends object> {
  kind: string;
  firstStep: string;
  steps: Record<string, AnyStep<D>>;
  /** How long a new flow lives before anyone has identified themselves in it. */
  initialTtlMs: number;
  /**
   * Only the server opens flows of this kind, for an account, on someone's decision (an
   * activation, after a representative's authorisation): no client may start one.
   */
  openedByServer?: boolean;
  /** What a finished flow shows its owner (an enrolment: the request number and next steps). */
  result?(flow: Flow<D>, view: { tenant: Tenant; t: Translate }): Record<string, string>;
}
