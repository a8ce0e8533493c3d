import type { Tenant } from "../tenants/tenant.ts";
import type { IdentityDeps } from "./deps.ts";
import type { Level } from "./levels.ts";

/** The schemes of upstream identity providers, each with its button: "Entra con SPID", "Entra con CIE". */
export const UPSTREAM_SCHEMES = ["spid", "cie"] as const;
export type UpstreamScheme = (typeof UPSTREAM_SCHEMES)[number];

/**
 * Who an upstream identity provider (federation/broker) said signed in, once its answer has been verified: the
 * codice fiscale (what accounts are matched by: SPID's NameIDs are transient, and a codice
 * fiscale is the one identifier SPID, CIE and the university share), the level it vouched for,
 * and the attributes an account is made from.
 */
export interface UpstreamIdentity {
  upstreamId: string;
  scheme: UpstreamScheme;
  level: Level;
  /** Upper case, without the TINIT- prefix. */
  fiscalCode: string;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
  /** The upstream's own identifier for the person (a transient NameID, or the OIDC `sub`). */
  subject: string;
}

/**
 * Why an upstream's answer led to no sign-in, as the user is told (message key) and the log
 * records it (detail). `spidCode`: the SPID ErrorCode the IdP sent (nr19 … nr30), if any.
 */
export interface UpstreamFailure {
  code: "upstream.cancelled" | "upstream.refused" | "upstream.level_not_met" | "upstream.no_fiscal_code" | "upstream.invalid_answer" | "upstream.expired";
  detail: string;
  spidCode?: number;
}

export type UpstreamAnswer = { ok: true; identity: UpstreamIdentity } | { ok: false; failure: UpstreamFailure };

/** A SPID fiscalNumber (TINIT-…) or CIE claim as a bare, upper-case codice fiscale; null if neither. */
export function fiscalCodeOf(value: string | null | undefined): string | null {
  if (!value) return null;
  const code = value.trim().toUpperCase().replace(/^TINIT-/, "");
  return /^[A-Z0-9]{16}$/.test(code) ? code : null;
}

/** Why a broker flow asked an upstream: to sign in, as the second factor, or to make it the second factor. */
export type BrokerPurpose = "login" | "step_up" | "activate";

/** Where a flow takes the answer to its request from (federation/broker implements it). */
export interface UpstreamAnswers {
  take(deps: IdentityDeps, tenant: Tenant, requestId: string, flowId: string): Promise<{ purpose: BrokerPurpose; answer: UpstreamAnswer } | undefined>;
}
