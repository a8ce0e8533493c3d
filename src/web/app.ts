import { randomUUID } from "node:crypto";
import type { Writable } from "node:stream";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import multipart from "@fastify/multipart";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { i18nPlugin } from "./plugins/i18n.ts";
import { metricsPlugin } from "./plugins/metrics.ts";
import { type OverloadOptions, overloadPlugin } from "./plugins/overload.ts";
import { type RateLimitOptions, rateLimitPlugin } from "./plugins/rate-limit.ts";
import { securityPlugin } from "./plugins/security.ts";
import { sessionScope } from "./plugins/session.ts";
import { tenantScope } from "./plugins/tenant.ts";
import { redactQuery } from "./redact.ts";
import { renderError } from "./render-error.ts";
import { assetRoutes } from "./routes/assets.ts";
import { devOutboxRoutes } from "./routes/dev-outbox.ts";
import { healthRoutes, type Lifecycle } from "./routes/health.ts";
import { accountRoutes } from "./routes/account.ts";
import { brokerRoutes } from "./routes/broker.ts";
import { accountApiRoutes } from "./routes/account-api.ts";
import { adminApiRoutes } from "./routes/admin-api.ts";
import { enrolmentRoutes } from "./routes/enrolment.ts";
import { flowApiRoutes } from "./routes/flows-api.ts";
import { loginRoutes } from "./routes/login.ts";
import { recoveryRoutes } from "./routes/recovery.ts";
import { registrationRoutes } from "./routes/registration.ts";
import { pkiRoutes } from "./routes/pki.ts";
import { samlRoutes } from "./routes/saml.ts";
import { oidcWeb } from "./routes/oidc.ts";
import { passkeyRoutes } from "./routes/passkeys.ts";
import { serverIndexRoutes } from "./routes/server-index.ts";
import { tenantHomeRoutes } from "./routes/tenant-home.ts";
import { flowRegistry } from "./flows.ts";
import { MAX_FILE_BYTES } from "./multipart.ts";
import { operatorRoutes } from "./routes/operator.ts";
import { proofingApiRoutes, proofingRoutes } from "./routes/proofing.ts";
import { activationRoutes } from "./routes/activation.ts";
import { deskRoutes } from "./routes/desk.ts";
import { cscRoutes } from "./routes/csc.ts";
import { signingRoutes } from "./routes/signing.ts";
import { membershipRequestRoutes } from "./routes/membership-request.ts";
import { organisationRoutes } from "./routes/organisations.ts";
import type { WebServices } from "./services.ts";
import "./types.ts";

export interface AppOptions extends WebServices {
  logLevel: string;
  /** Where logs go (standard output by default); tests pass a buffer. */
  logStream?: Writable;
  trustProxy: number;
  rateLimit: RateLimitOptions;
  /** Load shedding (settings: overloadEventLoopDelay); off when absent. */
  overload?: OverloadOptions;
  /** The OpenID providers may call relying parties on private networks (settings: oidcPrivateNetwork). */
  oidcPrivateNetwork?: boolean;
  /** Bearer token of the admin API; without it the admin API is off. */
  adminToken?: string | undefined;
}

/**
 * Builds the HTTP application. This is the web layer's composition root: it wires the store and
 * domain services into routes; nothing below `web/` knows about Fastify.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      redact: {
        paths: ["req.headers.authorization", "req.headers.cookie", 'res.headers["set-cookie"]', "*.password", "*.secret"],
        censor: "[redacted]",
      },
      serializers: {
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: redactQuery(request.url),
          remoteAddress: request.ip,
        }),
      },
    },
    genReqId: () => randomUUID(),
    // Incoming X-Request-Id is not trusted: ids must be unique to correlate logs.
    requestIdHeader: false,
    // Trust X-Forwarded-For from exactly this many proxies in front of us.
    trustProxy: (_address: string, hop: number) => hop < options.trustProxy,
    bodyLimit: 256 * 1024,
    routerOptions: { maxParamLength: 200 },
  });

  app.decorate("devMode", options.devMode);
  app.decorateRequest("tenant", null);
  app.decorateRequest("session", null);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  await app.register(cookie);
  await app.register(formbody);
  // Files come with the forms that need them (document photos, a signed contract); each route reads its own parts.
  await app.register(multipart, { limits: { fileSize: MAX_FILE_BYTES, files: 4, fields: 40, parts: 50 } });
  await app.register(securityPlugin, { https: options.publicUrl.current.startsWith("https://") });
  await app.register(metricsPlugin, { statements: () => options.store.statements() });
  await app.register(i18nPlugin);
  // Before the rate limit: an overloaded node refuses before it counts (Redis) or looks anything up.
  await app.register(overloadPlugin, options.overload ?? { maxEventLoopDelayMs: 0 });
  await app.register(rateLimitPlugin, options.rateLimit);

  app.setErrorHandler((error, request, reply) => renderError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    renderError(request, reply, Object.assign(new Error("not found"), { statusCode: 404 })),
  );

  const flows = flowRegistry(options);
  const oidc = oidcWeb(options, app.log, { privateNetwork: options.oidcPrivateNetwork ?? false });
  const lifecycle: Lifecycle = { stopping: false, inFlight: 0 };
  app.decorate("lifecycle", lifecycle);
  // Counted so that a shutdown knows when what it had in hand is done (cli/commands/start.ts);
  // the response's close covers every end: sent, hijacked and sent, or the client gone.
  app.addHook("onRequest", async (_request, reply) => {
    lifecycle.inFlight++;
    reply.raw.once("close", () => lifecycle.inFlight--);
  });
  await app.register(healthRoutes(options.store, lifecycle));
  await app.register(assetRoutes);
  await app.register(serverIndexRoutes(options.store));
  await app.register(adminApiRoutes(options, oidc.providers, options.adminToken), { prefix: "/admin/api" });
  await app.register(
    async (scope) => {
      await tenantScope(options.store)(scope);
      await sessionScope(options)(scope);
      // Unknown pages under a tenant still get the tenant's language and look.
      scope.setNotFoundHandler((request, reply) =>
        renderError(request, reply, Object.assign(new Error("not found"), { statusCode: 404 })),
      );
      await scope.register(tenantHomeRoutes);
      await scope.register(passkeyRoutes(options), { prefix: "/api/passkeys" });
      await scope.register(flowApiRoutes(options, flows), { prefix: "/api/flows" });
      await scope.register(enrolmentRoutes(options, flows), { prefix: "/enrol" });
      await scope.register(accountApiRoutes(options), { prefix: "/api/account" });
      await scope.register(loginRoutes(options, flows, oidc));
      await scope.register(oidc.plugin);
      await scope.register(samlRoutes(options));
      await scope.register(brokerRoutes(options));
      await scope.register(pkiRoutes(options), { prefix: "/pki" });
      await scope.register(recoveryRoutes(options, flows), { prefix: "/recover" });
      await scope.register(registrationRoutes(options, flows), { prefix: "/register" });
      await scope.register(accountRoutes(options, flows), { prefix: "/account" });
      await scope.register(proofingRoutes(options), { prefix: "/account/proofing" });
      await scope.register(proofingApiRoutes(options), { prefix: "/api/proofing" });
      await scope.register(operatorRoutes(options), { prefix: "/operator" });
      await scope.register(membershipRequestRoutes(options, flows), { prefix: "/request" });
      await scope.register(activationRoutes(options, flows), { prefix: "/activate" });
      await scope.register(organisationRoutes(options), { prefix: "/organisations" });
      await scope.register(deskRoutes(options), { prefix: "/desk" });
      await scope.register(cscRoutes(options), { prefix: "/csc/v2" });
      await scope.register(signingRoutes(options, flows), { prefix: "/account/sign" });
      if (options.devMode) await scope.register(devOutboxRoutes(options), { prefix: "/dev" });
    },
    { prefix: "/t/:tenant" },
  );
  return app;
}
