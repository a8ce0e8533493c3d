import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/** SPID requests do not carry IsPassive (Regole tecniche; ErrorCode nr15): the user is always involved. */
export const checkIsPassive: Check = (check) => {
  if (check.request.hasAttribute("IsPassive")) throw spidError(15, "IsPassive must not be present");
};
