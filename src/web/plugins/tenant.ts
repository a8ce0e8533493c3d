import type { FastifyInstance } from "fastify";
import { TesseraError } from "../../shared/errors.ts";
import type { Store } from "../../store/db.ts";
import { findTenant } from "../../tenants/service.ts";
import { selectLocale } from "./i18n.ts";

/**
 * Resolves `/t/<tenant>/…` to the tenant, before anything else in the scope runs, and narrows the
 * response language to the tenant's. An unknown tenant is a 404. No caching: every node reads
 * the same row, so a change made through one node is seen at once by all.
 */
export function tenantScope(store: Store) {
  return async (scope: FastifyInstance) => {
    scope.addHook("onRequest", async (request) => {
      const id = (request.params as { tenant?: string }).tenant ?? "";
      const tenant = /^[a-z][a-z0-9-]{1,31}$/.test(id) ? await findTenant(store.repos, id) : undefined;
      if (!tenant) {
        throw new TesseraError("tenant.not_found", `unknown tenant ${JSON.stringify(id.slice(0, 40))}`, {
          status: 404,
          params: { tenant: id.slice(0, 40) },
        });
      }
      request.tenant = tenant;
      selectLocale(request, tenant.locales, tenant.defaultLocale);
    });
  };
}
