import { attribute } from "../xml.ts";
import { spidError } from "../errors.ts";
import { BINDING } from "../service-provider.ts";
import type { Check } from "./context.ts";

/**
 * Where the response goes (SPID Regole tecniche §1.2.2.1, ErrorCode nr16): either
 * AssertionConsumerServiceIndex, naming an ACS of the metadata, or AssertionConsumerServiceURL
 * with ProtocolBinding, matching one; never both, never neither. Responses go by HTTP-POST.
 */
export const checkAssertionConsumerService: Check = (check) => {
  const index = attribute(check.request, "AssertionConsumerServiceIndex");
  const url = attribute(check.request, "AssertionConsumerServiceURL");
  const binding = attribute(check.request, "ProtocolBinding");
  if (index !== undefined && (url !== undefined || binding !== undefined)) throw spidError(16, "AssertionConsumerServiceIndex together with AssertionConsumerServiceURL or ProtocolBinding");
  if (index !== undefined) {
    if (!/^\d{1,5}$/.test(index)) throw spidError(16, "AssertionConsumerServiceIndex is not an unsigned short");
    const acs = check.sp.assertionConsumerServices.find((a) => a.index === Number(index));
    if (!acs || acs.binding !== BINDING.post) throw spidError(16, `no HTTP-POST AssertionConsumerService with index ${index} in the metadata`);
    check.found.acs = acs;
    return;
  }
  if (url === undefined || binding === undefined) throw spidError(16, "neither AssertionConsumerServiceIndex nor AssertionConsumerServiceURL with ProtocolBinding");
  if (binding !== BINDING.post) throw spidError(16, "ProtocolBinding must be HTTP-POST");
  const acs = check.sp.assertionConsumerServices.find((a) => a.location === url && a.binding === binding);
  if (!acs) throw spidError(16, "AssertionConsumerServiceURL is not in the metadata");
  check.found.acs = acs;
};
