import { attribute } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/** ID: present, an xs:ID (an NCName), of a sensible length (SPID ErrorCode nr11). */
export const checkId: Check = (check) => {
  const id = attribute(check.request, "ID");
  if (!id || id.length > 256 || !/^[A-Za-z_][\w.-]*$/.test(id)) throw spidError(11, "ID is missing or not an xs:ID");
  check.found.id = id;
};
