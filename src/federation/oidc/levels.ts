import { type Level, levelFromAcr, SPID_ACR } from "../../identity/levels.ts";

/** Levels Tessera can authenticate at today (L3 needs a certified device: a later issue). */
export const SUPPORTED_LEVELS: readonly Level[] = [1, 2];

/** What an authorization request says about levels: `acr_values`, and the `acr` claim request. */
export interface LevelRequest {
  acrValues?: string | undefined;
  /** `claims.id_token.acr` of the claims parameter. */
  acrClaim?: { essential?: boolean | undefined; value?: string | undefined; values?: readonly string[] | undefined } | null | undefined;
}

export type LevelDecision =
  | { ok: true; level: Level; /** ACRs the ID token may carry, if the request named them as essential. */ essential?: readonly string[] }
  | { ok: false; asked: readonly string[] };

/**
 * The level to authenticate at (SPID OIDC, "acr_values": values in order of preference, and the
 * OP may authenticate at a higher level). The first value that names a level Tessera can reach at
 * or above, among those the client may use, wins (at the lowest such level); none, and the request
 * cannot be met. Without any, the lowest level the client may use (a client's
 * `default_acr_values` arrive as `acr_values`).
 */
export function requestedLevel(request: LevelRequest, allowed: readonly Level[]): LevelDecision {
  const usable = allowed.filter((l) => SUPPORTED_LEVELS.includes(l)).sort();
  const claim = request.acrClaim;
  const essential = claim?.essential ? (claim.values ?? (claim.value !== undefined ? [claim.value] : undefined)) : undefined;
  const asked = essential ?? request.acrValues?.split(" ").filter(Boolean) ?? [];
  if (asked.length === 0) return usable.length > 0 ? { ok: true, level: usable[0]! } : { ok: false, asked };
  for (const acr of asked) {
    const level = levelFromAcr(acr);
    // That level, or the next one up the client may use: a higher level meets a lower request.
    const met = level === undefined ? undefined : usable.find((l) => l >= level);
    if (met !== undefined) return { ok: true, level: met, ...(essential ? { essential } : {}) };
  }
  return { ok: false, asked };
}

/**
 * The ACR to put in the ID token for a session of `sessionLevel`: its own, unless the request
 * listed essential values, where the highest listed one the session reaches (an L2 session meets
 * an essential SpidL1: levels are ordered).
 */
export function acrFor(sessionLevel: Level, essential: readonly string[] | undefined): string {
  if (!essential) return SPID_ACR[sessionLevel];
  const reached = essential.map((acr) => ({ acr, level: levelFromAcr(acr) })).filter((e) => e.level !== undefined && e.level <= sessionLevel);
  reached.sort((a, b) => b.level! - a.level!);
  return reached[0]?.acr ?? SPID_ACR[sessionLevel];
}
