import { newId } from "../shared/ids.ts";
import type { Clock } from "../shared/clock.ts";
import type { Secrets } from "../shared/crypto/secrets.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import type { Repos } from "../store/repos/index.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Channel, type RenderedMessage, renderMessage, type Template } from "./templates.ts";

export interface OutgoingMessage {
  tenant: Tenant;
  channel: Channel;
  /** E-mail address or E.164 number. */
  to: string;
  template: Template;
  locale: Locale;
  params: Record<string, string | number>;
  /** Messages with one key are queued once, whichever node tries and however often. */
  dedupeKey?: string;
  /** After this time the message is not sent at all (it carries a code that has expired). */
  expiresAt?: number;
  /**
   * Written like any other message, never sent: the message an unknown identifier would have
   * been sent, so that asking for it costs what asking for a real one does (identity/otp.ts).
   */
  decoy?: boolean;
}

export interface OutboxDeps {
  repos: Repos;
  clock: Clock;
  secrets: Secrets;
}

/**
 * Queues a message. Written with `repos`, so inside the caller's transaction: the message exists
 * if and only if the action that causes it happened. The text is rendered now (a later template
 * change does not alter a queued message) and sealed, since it may carry a code or a link.
 * Returns false when the dedupe key was used before.
 */
export async function enqueueMessage(deps: OutboxDeps, message: OutgoingMessage): Promise<boolean> {
  const id = newId();
  const rendered = renderMessage(message.tenant, message.channel, message.template, message.locale, message.params);
  const now = deps.clock.now();
  return deps.repos.outbox.insert({
    id,
    tenant_id: message.tenant.id,
    channel: message.channel,
    recipient: message.to,
    template: message.template,
    body: deps.secrets.seal(JSON.stringify(rendered), bodyContext(id)),
    dedupe_key: message.dedupeKey ?? null,
    status: message.decoy ? "decoy" : "pending",
    attempts: 0,
    next_attempt_at: now,
    lease_until: null,
    last_error: null,
    created_at: now,
    expires_at: message.expiresAt ?? null,
    sent_at: null,
  });
}

export function bodyContext(id: string): string {
  return `outbox:${id}`;
}

export function openBody(secrets: Secrets, id: string, body: string): RenderedMessage {
  return JSON.parse(secrets.open(body, bodyContext(id))) as RenderedMessage;
}
