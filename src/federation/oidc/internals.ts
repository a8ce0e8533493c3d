/**
 * The one module that loads oidc-provider (others import its types only). Loaded on first use:
 * commands and servers that never speak OpenID Connect do not pay for it (nor print its notice
 * that Node.js 20 is not a runtime it tests on, which is harmless here).
 */
import type * as OidcProviderModule from "oidc-provider";

export type OidcModule = typeof OidcProviderModule;
export type OidcErrors = OidcModule["errors"];

let loading: Promise<OidcModule> | undefined;

export function loadOidcProvider(): Promise<OidcModule> {
  loading ??= import("oidc-provider");
  return loading;
}
