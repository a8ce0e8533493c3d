import type { Locale } from "../shared/i18n/locales.ts";
import type { Translate } from "../shared/i18n/translate.ts";
import type { FoundSession } from "../identity/sessions.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Lifecycle } from "./routes/health.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Language of the response (see plugins/i18n.ts). */
    locale: Locale;
    /** Messages in `locale`. */
    t: Translate;
    /** Languages this request could have been answered in (the tenant's, or all). */
    offeredLocales: readonly Locale[];
    /** The tenant addressed by `/t/<tenant>/…`; set by plugins/tenant.ts, null outside tenant routes. */
    tenant: Tenant | null;
    /** The signed-in session (cookie or Bearer token) under a tenant; null when there is none. */
    session: FoundSession | null;
  }
  interface FastifyInstance {
    /** Development mode: pages carry a banner and the dev outbox is served. */
    devMode: boolean;
    /** Set when the node starts shutting down: `/readyz` then answers 503 (routes/health.ts). */
    lifecycle: Lifecycle;
  }
}
