import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { describeFlow } from "../../flows/describe.ts";
import { createFlow, loadFlow, startFlow, submitStep } from "../../flows/engine.ts";
import type { EnrolmentData } from "../../flows/enrolment/data.ts";
import { resumeEnrolment } from "../../flows/enrolment/resume.ts";
import { personalOf } from "../../flows/enrolment/steps/change-password.ts";
import type { AnyFlowDefinition, Flow, FlowOutput, Notice } from "../../flows/flow.ts";
import { FACTOR_ACTIONS, FIRST_STEP, SETTINGS_ACTIONS, type SettingsAction, type SettingsData } from "../../flows/settings/data.ts";
import { findAccount } from "../../identity/accounts.ts";
import { passwordRuleHints } from "../../identity/password/rules.ts";
import { checkNewPassword } from "../../identity/password/service.ts";
import { type FieldIssue, TesseraError, ValidationError } from "../../shared/errors.ts";
import { isMessageKey } from "../../shared/i18n/translate.ts";
import { requireFactorSession, requireFreshSession } from "../fresh-session.ts";
import type { FlowRegistry } from "../flows.ts";
import { actorOf, identityDeps, tenantUrl, type WebServices } from "../services.ts";
import { parseBody } from "../validate.ts";

const Create = z.object({
  kind: z.string().max(40),
  // Enrolment: resume a request.
  email: z.string().max(254).optional(),
  password: z.string().max(256).optional(),
  // Login: the level asked for.
  level: z.union([z.literal(1), z.literal(2)]).optional(),
  // Settings: which change.
  action: z.enum(SETTINGS_ACTIONS).optional(),
});
const Submit = z.looseObject({ step: z.string().max(40) });

/**
 * Flows as a JSON API (docs/api.md): enrolment, login, recovery and settings, with the same steps
 * and rules as the pages. A finished login hands over the session's token once; settings flows
 * belong to the account of the session (a Bearer token) that started them.
 */
export function flowApiRoutes(services: WebServices, registry: FlowRegistry) {
  const definitionOf = (request: FastifyRequest, kind: string): AnyFlowDefinition => {
    const definition = registry.anyForTenant(request.tenant!, kind);
    if (!definition) throw new TesseraError("flow.unknown_kind", `no ${kind} flow here`, { status: 404 });
    return definition;
  };
  const view = async (request: FastifyRequest, definition: AnyFlowDefinition, flow: Flow<object>, extra: { notice?: Notice; output?: FlowOutput } = {}) => {
    const described = await describeFlow(definition, flow, { tenant: request.tenant!, locale: request.locale, deps: identityDeps(services) }, extra.notice);
    const session = extra.output?.session;
    return session
      ? { ...described, session: { token: session.token, level: session.level, acr: session.acr, amr: session.amr, expires_at: new Date(session.expiresAt).toISOString() } }
      : described;
  };
  /** Settings flows need a recent sign-in, at level 2 for factors and contacts (levelToManageFactors). */
  const settingsSession = (request: FastifyRequest, action: SettingsAction) =>
    FACTOR_ACTIONS.has(action) ? requireFactorSession(services, request) : Promise.resolve(requireFreshSession(services, request));
  /** A settings flow is its owner's only. */
  const checkOwner = async (request: FastifyRequest, flow: Flow<object>) => {
    if (flow.kind !== "settings") return;
    const session = await settingsSession(request, (flow.data as SettingsData).action);
    if (flow.accountId !== session.accountId) throw new TesseraError("flow.not_found", "no such flow", { status: 404 });
  };
  /** `apiOnly`: a browser's flow is that browser's (its cookie, its e-mailed link): the API neither shows nor moves it. */
  const loadAny = async (request: FastifyRequest, id: string, apiOnly = true) => {
    const flow = await loadFlow<object>(services, request.tenant!, undefined, id);
    if (apiOnly && flow.channel !== "api") throw new TesseraError("flow.not_found", "no such flow", { status: 404 });
    await checkOwner(request, flow);
    return { flow, definition: definitionOf(request, flow.kind) };
  };

  return async (app: FastifyInstance) => {
    app.post("/", async (request, reply) => {
      const body = parseBody(Create, request.body);
      const definition = definitionOf(request, body.kind);
      if (definition.openedByServer) throw new TesseraError("flow.not_startable", `a ${body.kind} flow is opened by its e-mailed link, not by a client`, { status: 403 });
      const tenant = request.tenant!;
      let flow: Flow<object>;
      switch (body.kind) {
        case "enrolment":
          if (body.email !== undefined || body.password !== undefined) {
            const resumed = await resumeEnrolment(services, tenant, { email: body.email ?? "", password: body.password ?? "" }, { ip: request.ip, channel: "api" });
            return view(request, definition, resumed);
          }
          flow = await createFlow(services, tenant, definition, "api", {});
          break;
        case "login":
          flow = await createFlow(services, tenant, definition, "api", { level: body.level ?? 1 });
          break;
        case "settings": {
          if (!body.action) throw new ValidationError("validation_failed", [{ field: "action", code: "enrol.required", message: "required" }]);
          const session = await settingsSession(request, body.action);
          const started = await startFlow(services, tenant, definition, { action: body.action }, { step: FIRST_STEP[body.action], accountId: session.accountId }, {
            channel: "api",
            by: actorOf(request),
            locale: request.locale,
            tenantUrl: tenantUrl(services, tenant),
            userAgent: request.headers["user-agent"] ?? null,
          });
          if (started.outcome?.type === "reject") return validationFailed(request, reply, FIRST_STEP[body.action], started.outcome.errors);
          const notice = started.outcome && "notice" in started.outcome ? started.outcome.notice : undefined;
          return reply.code(201).send(await view(request, definition, started.flow, notice ? { notice } : {}));
        }
        default:
          flow = await createFlow(services, tenant, definition, "api", {});
      }
      return reply.code(201).send(await view(request, definition, flow));
    });

    app.get<{ Params: { id: string } }>("/:id", async (request) => {
      const { flow, definition } = await loadAny(request, request.params.id);
      return view(request, definition, flow);
    });

    app.post<{ Params: { id: string } }>("/:id", async (request, reply) => {
      const { step, ...input } = parseBody(Submit, request.body);
      const { definition } = await loadAny(request, request.params.id);
      try {
        const { flow, outcome } = await submitStep(services, request.tenant!, definition, request.params.id, {
          step,
          input,
          channel: "api",
          by: actorOf(request),
          locale: request.locale,
          tenantUrl: tenantUrl(services, request.tenant!),
          userAgent: request.headers["user-agent"] ?? null,
        });
        if (outcome.type === "reject") return validationFailed(request, reply, step, outcome.errors);
        return view(request, definition, flow, {
          ...("notice" in outcome && outcome.notice ? { notice: outcome.notice } : {}),
          ...(outcome.type === "finish" && outcome.output ? { output: outcome.output } : {}),
        });
      } catch (err) {
        if (err instanceof ValidationError) return validationFailed(request, reply, step, err.issues);
        throw err;
      }
    });

    /** Live password hints: every rule in force, each said to pass or not, with this flow's personal data. */
    app.post<{ Params: { id: string } }>("/:id/password-check", async (request) => {
      const { password } = parseBody(z.object({ password: z.string().max(256) }), request.body);
      const tenant = request.tenant!;
      // The pages' own script asks this for browser flows too: it says which rules a password meets, no more.
      const { flow } = await loadAny(request, request.params.id, false);
      const deps = identityDeps(services);
      const account = flow.accountId ? ((await findAccount(deps, tenant, flow.accountId)) ?? null) : null;
      const data = flow.data as EnrolmentData;
      const personal = { email: data.email ?? null, ...(data.personal ? personalOf(data.personal) : {}) };
      const failed = new Set((await checkNewPassword(deps, tenant, account, password, personal)).map((f) => f.rule));
      return {
        ok: failed.size === 0,
        rules: passwordRuleHints(tenant.policy.password).map((h) => ({ rule: h.rule, message: request.t(h.rule, h.params), ok: !failed.has(h.rule) })),
      };
    });
  };
}

/** 400 with each field's problem, in the response language: the flow API's error shape. */
export function validationFailed(request: FastifyRequest, reply: FastifyReply, step: string, errors: FieldIssue[]) {
  return reply.code(400).send({
    error: "validation_failed",
    error_description: request.t("validation_failed"),
    step,
    errors: errors.map((e) => ({ field: e.field, code: e.code, message: isMessageKey(e.code) ? request.t(e.code, e.params) : e.message })),
  });
}
