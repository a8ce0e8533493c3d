import type { FastifyInstance } from "fastify";
import type { Store } from "../../store/db.ts";

/**
 * Liveness and readiness for load balancers and orchestrators. `/healthz` says the process
 * answers; `/readyz` says it can do useful work, which needs the database.
 */
export function healthRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/readyz", async (request, reply) => {
      try {
        await store.ping();
        return { status: "ok" };
      } catch (err) {
        request.log.warn({ err }, "database not answering");
        return reply.code(503).send({ status: "unavailable", error: "temporarily_unavailable", error_description: "the database is not answering" });
      }
    });
  };
}
