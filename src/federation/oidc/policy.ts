import type { IncomingMessage } from "node:http";
import type { KoaContextWithOIDC } from "oidc-provider";
import { type Level, levelFromAcr } from "../../identity/levels.ts";
import { VIRTUAL_CARD_CLIENT_ID } from "../../shared/virtual-card.ts";
import type { OidcModule } from "./internals.ts";
import { requestedLevel } from "./levels.ts";

/** The Tessera session a request carries (resolved by the web layer), as the policy needs it. */
export interface BrowserSession {
  accountId: string;
  level: Level;
  acr: string;
  amr: string[];
  /** When its holder last proved who they are (ms). */
  authenticatedAt: number;
}

export type SessionOf = (req: IncomingMessage) => BrowserSession | undefined;

/** The levels a client may ask for (its `tessera_levels` metadata; clients.ts). */
export function clientLevels(client: { [key: string]: unknown } | undefined): Level[] {
  const levels = client?.tessera_levels;
  return Array.isArray(levels) ? (levels as Level[]) : [1, 2];
}

/** The level an authorization request asks for, from its parameters (see levels.ts). */
export function levelRequestOf(ctx: KoaContextWithOIDC) {
  const { params, claims, client } = ctx.oidc;
  const acrClaim = claims.id_token?.acr;
  return requestedLevel({ acrValues: params?.acr_values as string | undefined, acrClaim }, clientLevels(client));
}

/**
 * oidc-provider's interaction policy with two checks of Tessera's added to its login prompt:
 *
 * - `tessera_session`: the provider's session (its own cookie) stands only while the Tessera
 *   session it came from does, for the same account. Signing out of Tessera, or a session ended
 *   from the self-service panel, ends single sign-on to every relying party too.
 * - `tessera_level`: the session's level meets what the request asks (acr_values, or an essential
 *   acr claim); a level that cannot be met at all (L3, or one the client may not use) ends the
 *   request with `access_denied`, as SPID/CIE OIDC prescribe, before anyone signs in.
 */
export function interactionPolicy(oidc: OidcModule, sessionOf: SessionOf) {
  const { Check, base } = oidc.interactionPolicy;
  const policy = base();
  const login = policy.get("login")!;

  login.checks.add(
    new Check("tessera_session", "the Tessera session has ended or changed", (ctx) => {
      const { accountId } = ctx.oidc.session!;
      if (!accountId) return Check.NO_NEED_TO_PROMPT;
      const session = sessionOf(ctx.req);
      return session?.accountId === accountId ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
    0,
  );

  // The virtual card's client is public and native: any program of the desktop could use its id.
  // Its tokens are given only after the person signs in again on the page (RFC 8252 §8.6), never
  // silently on the strength of the browser's session.
  login.checks.add(
    new Check("native_client_login", "the virtual card signs in anew", (ctx) =>
      ctx.oidc.client?.clientId === VIRTUAL_CARD_CLIENT_ID && !ctx.oidc.result?.login ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );

  login.checks.add(
    new Check("tessera_level", "the requested authentication level is not met", (ctx) => {
      const decision = levelRequestOf(ctx);
      if (!decision.ok) {
        throw new oidc.errors.AccessDenied(`none of the requested authentication levels can be met (${decision.asked.join(" ")})`);
      }
      const current = ctx.oidc.session?.accountId ? levelFromAcr(ctx.oidc.acr) : undefined;
      return current !== undefined && current >= decision.level ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
