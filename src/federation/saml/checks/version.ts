import { attribute } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/** Version="2.0" (SAML core §3.2.1; SPID ErrorCode nr09). */
export const checkVersion: Check = (check) => {
  if (attribute(check.request, "Version") !== "2.0") throw spidError(9, "Version is missing or not 2.0");
};
