import type { Element } from "@xmldom/xmldom";
import type { Level } from "../../../identity/levels.ts";
import type { SamlPolicy } from "../../../tenants/policy.ts";
import type { Binding } from "../receive.ts";
import type { AssertionConsumerService, ServiceProviderDescription } from "../service-provider.ts";

/** How the level of the sign-in follows from RequestedAuthnContext (SAML core §3.3.2.2.1). */
export interface LevelRequirement {
  comparison: "exact" | "minimum" | "better" | "maximum";
  /** The level named in the request. */
  named: Level;
  /** The level to sign in at, at least. */
  signInAt: Level;
  /** The highest level the assertion may state. */
  atMost: Level;
}

/** An AuthnRequest being checked: what every check reads, and what the checks so far found. */
export interface AuthnRequestCheck {
  request: Element;
  sp: ServiceProviderDescription;
  binding: Binding;
  now: number;
  policy: SamlPolicy;
  /** This tenant's SSO endpoint and entityID: what Destination may say. */
  ssoUrl: string;
  entityId: string;
  offeredLevels: readonly Level[];
  found: {
    id?: string;
    issueInstant?: number;
    acs?: AssertionConsumerService;
    attributeSet?: { index: number; attributes: string[] };
    level?: LevelRequirement;
    forceAuthn?: boolean;
    /** SPID Avviso 18 purpose (Extensions/spid:Purpose), when the SP asks for an identity type. */
    purpose?: string;
  };
}

export type Check = (check: AuthnRequestCheck) => void;

/** xs:boolean. */
export function booleanValue(value: string | undefined): boolean | undefined {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return undefined;
}
