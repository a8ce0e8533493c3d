import * as oidc from "openid-client";
import { type Level, levelFromAcr, SPID_ACR } from "../../identity/levels.ts";
import { EID } from "../oidc/claims.ts";
import { fiscalCodeOf, type UpstreamFailure, type UpstreamIdentity } from "../../identity/upstream-identity.ts";
import type { OidcUpstream } from "./upstreams.ts";

/**
 * The broker tenant as an OpenID Connect relying party of an upstream provider (the CIE and SPID
 * OpenID Connect profiles), with openid-client: discovery, the authorization code flow with PKCE
 * (S256), state and nonce, `acr_values` for the level asked; the ID token is checked by
 * openid-client (signature against the provider's JWKS, issuer, audience, expiry, nonce), its
 * `acr` must be the level asked or above, and the codice fiscale comes from userinfo.
 */
const DISCOVERY_TTL_MS = 3_600_000;
const discovered = new Map<string, { config: Promise<oidc.Configuration>; at: number }>();

/** http only to this machine (development, tests); https anywhere. */
function insecureAllowed(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

function configurationOf(upstream: OidcUpstream): Promise<oidc.Configuration> {
  const key = `${upstream.issuer}|${upstream.clientId}|${upstream.clientSecret}`;
  const cached = discovered.get(key);
  if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
  const config = oidc.discovery(new URL(upstream.issuer), upstream.clientId, undefined, oidc.ClientSecretBasic(upstream.clientSecret), {
    timeout: 10,
    ...(insecureAllowed(upstream.issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
  });
  discovered.set(key, { config, at: Date.now() });
  config.catch(() => discovered.delete(key));
  return config;
}

/** What a request must remember until its answer: PKCE verifier and nonce (sealed in the store). */
export interface OidcSecrets {
  verifier: string;
  nonce: string;
}

export async function authorizationUrl(upstream: OidcUpstream, input: { state: string; level: Level; redirectUri: string }): Promise<{ url: string; secrets: OidcSecrets }> {
  const config = await configurationOf(upstream);
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: input.redirectUri,
    scope: "openid profile email",
    acr_values: SPID_ACR[input.level],
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: input.state,
    nonce,
    // CIE/SPID OpenID Connect ask for a fresh authentication at each request.
    prompt: "login",
  });
  return { url: url.href, secrets: { verifier, nonce } };
}

export type OidcAnswer = { ok: true; identity: UpstreamIdentity } | { ok: false; failure: UpstreamFailure };

/** The provider sent the browser back to `callbackUrl`: the code redeemed and checked, or why not. */
export async function completeAuthorization(
  upstream: OidcUpstream,
  input: { callbackUrl: URL; state: string; level: Level; secrets: OidcSecrets },
): Promise<OidcAnswer> {
  const error = input.callbackUrl.searchParams.get("error");
  if (error) {
    const cancelled = error === "access_denied";
    return { ok: false, failure: { code: cancelled ? "upstream.cancelled" : "upstream.refused", detail: `the provider answered ${error}: ${input.callbackUrl.searchParams.get("error_description") ?? ""}` } };
  }
  const config = await configurationOf(upstream);
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(config, input.callbackUrl, {
      pkceCodeVerifier: input.secrets.verifier,
      expectedState: input.state,
      expectedNonce: input.secrets.nonce,
      idTokenExpected: true,
    });
  } catch (e) {
    return { ok: false, failure: { code: "upstream.invalid_answer", detail: `the code could not be redeemed: ${e instanceof Error ? e.message : String(e)}` } };
  }
  const claims = tokens.claims()!;
  const level = typeof claims.acr === "string" ? levelFromAcr(claims.acr) : undefined;
  if (level === undefined || level < input.level) {
    return { ok: false, failure: { code: "upstream.level_not_met", detail: `asked for SpidL${input.level}, the ID token states ${JSON.stringify(claims.acr)}` } };
  }
  let info: oidc.UserInfoResponse;
  try {
    info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  } catch (e) {
    return { ok: false, failure: { code: "upstream.invalid_answer", detail: `userinfo failed: ${e instanceof Error ? e.message : String(e)}` } };
  }
  const fiscalCode = fiscalCodeOf(info[`${EID}fiscal_number`] as string | undefined);
  if (!fiscalCode) return { ok: false, failure: { code: "upstream.no_fiscal_code", detail: "userinfo carries no fiscal_number" } };
  const text = (name: string) => (typeof info[name] === "string" ? (info[name]) : null);
  return {
    ok: true,
    identity: {
      upstreamId: upstream.id,
      scheme: upstream.scheme,
      level,
      fiscalCode,
      givenName: text("given_name"),
      familyName: text("family_name"),
      email: text("email"),
      subject: claims.sub,
    },
  };
}
