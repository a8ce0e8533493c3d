import type { FastifyInstance } from "fastify";
import type { Store } from "../../store/db.ts";

/** Whether the node is on its way out (SIGTERM): it still serves, but asks not to be sent more. */
export interface Lifecycle {
  stopping: boolean;
  /** Requests being answered now (their response not yet finished or abandoned). */
  inFlight: number;
}

/**
 * Liveness and readiness for load balancers and orchestrators. `/healthz` says the process
 * answers; `/readyz` says it can do useful work, which needs the database, and that it is not
 * stopping.
 */
export function healthRoutes(store: Store, lifecycle: Lifecycle) {
  return async (app: FastifyInstance) => {
    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/readyz", async (request, reply) => {
      if (lifecycle.stopping) {
        return reply.code(503).send({ status: "stopping", error: "temporarily_unavailable", error_description: "this node is shutting down" });
      }
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
