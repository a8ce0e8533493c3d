import { childNamed, childrenNamed, elements, NS, textOf } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/** SPID AgID Avviso n. 18 v2: the identity types a service may ask for in Extensions/spid:Purpose. */
export const PURPOSES = ["P", "LP", "PG", "PF", "PX"] as const;

/**
 * The type of identity asked for, if any: `spid:Purpose` in Extensions, one of the values AgID
 * defines (else the request is not schema-valid, ErrorCode nr08). Whether the user's identity is
 * of that type is known only after sign-in (ErrorCode nr30).
 */
export const checkPurpose: Check = (check) => {
  const extensions = childNamed(check.request, NS.samlp, "Extensions");
  if (!extensions) return;
  const purposes = childrenNamed(extensions, NS.spid, "Purpose");
  if (purposes.length === 0) return;
  const value = textOf(purposes[0]);
  if (purposes.length > 1 || !value || !(PURPOSES as readonly string[]).includes(value) || elements(purposes[0]!).length > 0) {
    throw spidError(8, "spid:Purpose must be one of P, LP, PG, PF, PX");
  }
  check.found.purpose = value;
};
