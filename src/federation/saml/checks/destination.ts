import { attribute } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/** Destination is this tenant's SSO endpoint (SAML bindings §3.4.5.2, §3.5.5.2; SPID ErrorCode nr14). */
export const checkDestination: Check = (check) => {
  const destination = attribute(check.request, "Destination");
  if (destination !== check.ssoUrl) throw spidError(14, "Destination is missing or not this identity provider's SSO endpoint");
};
