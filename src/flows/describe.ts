import type { IdentityDeps } from "../identity/deps.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import { translator } from "../shared/i18n/translate.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { FieldSpec, Flow, FlowDefinition, Notice } from "./flow.ts";

/** A flow as clients see it: where it is, what the current step takes, when it expires. */
export interface FlowView {
  id: string;
  kind: string;
  state: string;
  step: string | null;
  fields: FieldSpec[];
  expires_at: string;
  notice?: { code: string; message: string };
  result?: Record<string, string>;
}

export async function describeFlow<D extends object>(
  definition: FlowDefinition<D>,
  flow: Flow<D>,
  ctx: { tenant: Tenant; locale: Locale; deps: IdentityDeps },
  notice?: Notice,
): Promise<FlowView> {
  const t = translator(ctx.locale);
  const step = flow.step ? definition.steps[flow.step] : undefined;
  return {
    id: flow.id,
    kind: flow.kind,
    state: flow.state,
    step: flow.step,
    fields: step ? await step.fields({ tenant: ctx.tenant, flow, locale: ctx.locale, t, deps: ctx.deps }) : [],
    expires_at: new Date(flow.expiresAt).toISOString(),
    ...(notice ? { notice: { code: notice.code, message: t(notice.code, notice.params) } } : {}),
    ...(flow.state !== "active" && definition.result ? { result: definition.result(flow, { tenant: ctx.tenant, t }) } : {}),
  };
}
