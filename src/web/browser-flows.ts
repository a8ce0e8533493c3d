import type { FastifyReply, FastifyRequest } from "fastify";
import { loadFlow, submitStep } from "../flows/engine.ts";
import type { Flow, FlowDefinition } from "../flows/flow.ts";
import { type FieldIssue, TesseraError } from "../shared/errors.ts";
import type { FlowKinds, FlowRegistry } from "./flows.ts";
import { actorOf, tenantUrl, type WebServices } from "./services.ts";
import type { FormState } from "./views/form.ts";

export type Form = Record<string, string | string[] | undefined>;

/** Fields whose values never go back into a page. */
const SECRET_FIELDS = new Set(["password", "customer_password", "csrf_token", "captcha", "answer", "code", "response"]);

/**
 * What the HTML pages of every flow share. A browser is bound to its flow by an HttpOnly cookie
 * holding the flow's CSRF token, scoped to the flow's pages; every form carries the same token.
 */
export function browserFlows<K extends keyof FlowKinds>(services: WebServices, registry: FlowRegistry, kind: K, path: string) {
  const cookie = `tessera_${kind}`;
  const base = (request: FastifyRequest) => `/t/${request.tenant!.id}/${path}`;
  return {
    base,
    definition(request: FastifyRequest): FlowDefinition<FlowKinds[K]> {
      const definition = registry.forTenant(request.tenant!, kind);
      if (!definition) throw new TesseraError("flow.unknown_kind", `no ${kind} here`, { status: 404 });
      return definition;
    },
    load(request: FastifyRequest, id: string): Promise<Flow<FlowKinds[K]>> {
      return loadFlow<FlowKinds[K]>(services, request.tenant!, kind, id);
    },
    bind(reply: FastifyReply, request: FastifyRequest, flow: Flow<object>): void {
      reply.setCookie(cookie, flow.csrfToken, {
        path: base(request),
        httpOnly: true,
        sameSite: "lax",
        secure: services.publicUrl.current.startsWith("https://"),
        maxAge: Math.max(1, Math.ceil((flow.expiresAt - services.clock.now()) / 1000)),
      });
    },
    unbind(reply: FastifyReply, request: FastifyRequest): void {
      reply.clearCookie(cookie, { path: base(request) });
    },
    boundHere(request: FastifyRequest, flow: Flow<object>): boolean {
      return request.cookies[cookie] === flow.csrfToken;
    },
    formState(request: FastifyRequest, errors: FieldIssue[] = [], form: Form = {}): FormState {
      return {
        errors,
        t: request.t,
        values: Object.fromEntries(Object.entries(form).filter(([k, v]) => !SECRET_FIELDS.has(k) && typeof v === "string") as [string, string][]),
      };
    },
    /** Submits a form to a step; a passkey response arrives as JSON text in a form field. */
    submit(request: FastifyRequest, flowId: string, step: string, input: Form, extra: { csrfToken?: string | undefined; viaEmailLink?: boolean; flow?: Flow<FlowKinds[K]> } = {}) {
      const values: Record<string, unknown> = { ...input };
      if (typeof values.response === "string") {
        try {
          values.response = JSON.parse(values.response);
        } catch {
          values.response = undefined;
        }
      }
      const { flow, ...submission } = extra;
      return submitStep(
        services,
        request.tenant!,
        this.definition(request),
        flowId,
        {
          step,
          input: values,
          channel: "browser",
          ...submission,
          by: actorOf(request),
          locale: request.locale,
          tenantUrl: tenantUrl(services, request.tenant!),
          userAgent: request.headers["user-agent"] ?? null,
        },
        flow,
      );
    },
  };
}

/** Only paths of the same tenant may be returned to after a sign-in: never another site. */
export function safeReturnTo(request: FastifyRequest, value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const prefix = `/t/${request.tenant!.id}/`;
  return value.startsWith(prefix) && !value.includes("\\") && !/[\r\n]/.test(value) ? value : undefined;
}

export function html(reply: FastifyReply, status: number, page: { value: string }) {
  return reply.code(status).type("text/html; charset=utf-8").send(page.value);
}
