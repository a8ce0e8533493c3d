import type { FastifyRequest } from "fastify";
import type { PageContext } from "./views/layout.ts";

/** What every page needs from the request: language, translator, tenant and the current path. */
export function pageContext(request: FastifyRequest): PageContext {
  return {
    locale: request.locale,
    t: request.t,
    locales: request.offeredLocales,
    // Collapse leading slashes: "//host" would make the language links point off-site.
    path: request.url.split("?")[0]!.replace(/^\/+/, "/"),
    tenant: request.tenant ?? undefined,
    devMode: request.server.devMode,
  };
}
