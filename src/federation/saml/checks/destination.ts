import { attribute } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/**
 * Destination names this identity provider (SAML bindings §3.4.5.2, §3.5.5.2; SPID ErrorCode
 * nr14): its SSO endpoint, as SAML has it, or its entityID, which the SPID Regole tecniche allow.
 */
export const checkDestination: Check = (check) => {
  const destination = attribute(check.request, "Destination");
  if (destination !== check.ssoUrl && destination !== check.entityId) throw spidError(14, "Destination is missing or names another identity provider");
};
