import { attribute } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/**
 * AttributeConsumingServiceIndex, if present, names an attribute set of the SP's metadata (SPID
 * ErrorCode nr18); absent, no attributes are released.
 */
export const checkAttributeConsumingService: Check = (check) => {
  const index = attribute(check.request, "AttributeConsumingServiceIndex");
  if (index === undefined) return;
  if (!/^\d{1,5}$/.test(index)) throw spidError(18, "AttributeConsumingServiceIndex is not an unsigned short");
  const set = check.sp.attributeConsumingServices.find((a) => a.index === Number(index));
  if (!set) throw spidError(18, `no AttributeConsumingService with index ${index} in the metadata`);
  check.found.attributeSet = { index: set.index, attributes: set.attributes };
};
