import type { FastifyInstance } from "fastify";
import { normalizeEmail, normalizePhone } from "../../identity/identifiers.ts";
import { openBody } from "../../messaging/outbox.ts";
import type { OutboxRow } from "../../store/repos/outbox.ts";
import { pageContext } from "../page-context.ts";
import type { WebServices } from "../services.ts";
import { devOutboxPage } from "../views/dev-outbox.ts";

export interface DevMessage {
  id: string;
  channel: string;
  to: string;
  template: string;
  status: string;
  subject: string | null;
  text: string | null;
  created_at: string;
  sent_at: string | null;
}

/**
 * Development mode only (never registered otherwise): the messages a tenant sent, newest first,
 * with their text, so that codes and links can be read without a real mailbox or phone.
 */
export function devOutboxRoutes(services: WebServices) {
  const list = async (tenantId: string, to: unknown): Promise<DevMessage[]> => {
    const recipient = typeof to === "string" && to ? (normalizeEmail(to) ?? normalizePhone(to) ?? to) : undefined;
    const rows = await services.store.repos.outbox.list(tenantId, { ...(recipient ? { recipient } : {}), limit: 100 });
    return rows.map((row) => toDevMessage(services, row));
  };

  return async (app: FastifyInstance) => {
    app.get("/outbox.json", async (request) => list(request.tenant!.id, (request.query as { to?: unknown }).to));
    app.get("/outbox", async (request, reply) => {
      const messages = await list(request.tenant!.id, (request.query as { to?: unknown }).to);
      return reply.type("text/html; charset=utf-8").send(devOutboxPage(pageContext(request), messages).value);
    });
  };
}

function toDevMessage(services: WebServices, row: OutboxRow): DevMessage {
  const body = row.body ? openBody(services.secrets, row.id, row.body) : undefined;
  return {
    id: row.id,
    channel: row.channel,
    to: row.recipient,
    template: row.template,
    status: row.status,
    subject: body?.subject ?? null,
    text: body?.text ?? null,
    created_at: new Date(row.created_at).toISOString(),
    sent_at: row.sent_at === null ? null : new Date(row.sent_at).toISOString(),
  };
}
