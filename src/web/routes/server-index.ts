import type { FastifyInstance } from "fastify";
import type { Store } from "../../store/db.ts";
import { listTenants } from "../../tenants/service.ts";
import { pageContext } from "../page-context.ts";
import { serverIndexPage } from "../views/server-index.ts";

/** The server root lists its tenants: their issuers are public anyway. */
export function serverIndexRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.get("/", async (request, reply) => {
      const tenants = await listTenants(store.repos);
      return reply.type("text/html; charset=utf-8").send(serverIndexPage(pageContext(request), tenants).value);
    });
  };
}
