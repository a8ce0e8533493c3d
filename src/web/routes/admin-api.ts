import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { AUTH_METHODS, createClient, deleteClient, findClient, GRANTS, listClients } from "../../federation/oidc/clients.ts";
import type { OidcProviders } from "../../federation/oidc/providers.ts";
import { TesseraError, ValidationError } from "../../shared/errors.ts";
import { findTenant } from "../../tenants/service.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { identityDeps, type WebServices } from "../services.ts";
import { adminPkiRoutes } from "./admin-pki.ts";
import { parseBody } from "../validate.ts";

/** A client as the admin API takes it (snake_case, as the API answers it). */
const ClientBody = z
  .object({
    name: z.string(),
    redirect_uris: z.array(z.string()).optional(),
    post_logout_redirect_uris: z.array(z.string()).optional(),
    grants: z.array(z.enum(GRANTS)).optional(),
    auth_method: z.enum(AUTH_METHODS).optional(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
    scopes: z.array(z.string()).optional(),
    claims: z.array(z.string()).optional(),
    levels: z.array(z.number()).optional(),
    subject_type: z.enum(["public", "pairwise"]).optional(),
    id_token_alg: z.enum(["RS256", "ES256"]).optional(),
    backchannel_logout_uri: z.string().optional(),
    resources: z.array(z.string()).optional(),
    require_pushed_authorization_requests: z.boolean().optional(),
    require_signed_request_object: z.boolean().optional(),
  })
  .strict();

/** A validation error in the API's field names (`redirect_uris.0`, not `redirectUris.0`). */
function inApiNames(error: ValidationError): ValidationError {
  const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return new ValidationError(error.code, error.issues.map((issue) => ({ ...issue, field: snake(issue.field) })));
}

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * The admin JSON API, `/admin/api/…`, for operators' tools: a tenant's relying parties, as
 * `tessera client` manages them, and its PKI as `tessera pki` does (admin-pki.ts). One Bearer token (setting `adminToken`); without it the API does
 * not exist. Every change is audited with the actor `admin-api`.
 */
export function adminApiRoutes(services: WebServices, providers: OidcProviders, adminToken: string | undefined) {
  const expected = adminToken ? createHash("sha256").update(adminToken).digest() : undefined;
  const BY = (request: FastifyRequest) => ({ actor: "admin-api", ip: request.ip, requestId: request.id });

  const tenantOf = async (request: FastifyRequest<{ Params: { tenant: string } }>): Promise<Tenant> => {
    const tenant = /^[a-z][a-z0-9-]{1,31}$/.test(request.params.tenant) ? await findTenant(services.store.repos, request.params.tenant) : undefined;
    if (!tenant) throw new TesseraError("tenant.not_found", "no such tenant", { status: 404, params: { tenant: request.params.tenant } });
    return tenant;
  };

  return async (app: FastifyInstance) => {
    app.addHook("onRequest", async (request, reply) => {
      if (!expected) throw new TesseraError("http.not_found", "the admin API is off", { status: 404 });
      const token = /^bearer +(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
      const given = token ? createHash("sha256").update(token).digest() : undefined;
      if (!given || !timingSafeEqual(given, expected)) {
        reply.header("www-authenticate", `Bearer realm="tessera-admin"${token ? ', error="invalid_token"' : ""}`);
        throw new TesseraError("admin.unauthorized", "a valid admin token is needed", { status: 401 });
      }
    });

    app.get<{ Params: { tenant: string } }>("/tenants/:tenant/clients", async (request) => listClients(identityDeps(services), await tenantOf(request)));

    app.post<{ Params: { tenant: string } }>("/tenants/:tenant/clients", async (request, reply) => {
      const tenant = await tenantOf(request);
      const b = parseBody(ClientBody, request.body);
      const input = defined({
        name: b.name,
        redirectUris: b.redirect_uris,
        postLogoutRedirectUris: b.post_logout_redirect_uris,
        grants: b.grants,
        authMethod: b.auth_method,
        jwks: b.jwks,
        scopes: b.scopes,
        claims: b.claims,
        levels: b.levels,
        subjectType: b.subject_type,
        idTokenAlg: b.id_token_alg,
        backchannelLogoutUri: b.backchannel_logout_uri,
        resources: b.resources,
        requirePushedAuthorizationRequests: b.require_pushed_authorization_requests,
        requireSignedRequestObject: b.require_signed_request_object,
      });
      const { client, secret } = await createClient(identityDeps(services), tenant, input, (m) => providers.validateClient(tenant, m), BY(request)).catch(
        (error: unknown) => {
          throw error instanceof ValidationError ? inApiNames(error) : error;
        },
      );
      return reply.code(201).send({ ...client, ...(secret ? { client_secret: secret } : {}) });
    });

    app.get<{ Params: { tenant: string; id: string } }>("/tenants/:tenant/clients/:id", async (request) =>
      findClient(identityDeps(services), await tenantOf(request), request.params.id),
    );

    app.delete<{ Params: { tenant: string; id: string } }>("/tenants/:tenant/clients/:id", async (request, reply) => {
      await deleteClient(identityDeps(services), await tenantOf(request), request.params.id, BY(request));
      return reply.code(204).send();
    });

    await app.register(adminPkiRoutes(services, tenantOf, BY));
  };
}
