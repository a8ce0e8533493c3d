import { NS } from "../xml.ts";
import { spidError } from "../errors.ts";
import { booleanValue, type Check } from "./context.ts";

/** samlp:AuthnRequest's attributes and children, in schema order (SAML core §3.4.1, §3.2.1). */
const ATTRIBUTES = new Set([
  "ID",
  "Version",
  "IssueInstant",
  "Destination",
  "Consent",
  "ForceAuthn",
  "IsPassive",
  "ProtocolBinding",
  "AssertionConsumerServiceIndex",
  "AssertionConsumerServiceURL",
  "AttributeConsumingServiceIndex",
  "ProviderName",
]);
const CHILDREN: readonly (readonly [string, string])[] = [
  [NS.saml, "Issuer"],
  [NS.ds, "Signature"],
  [NS.samlp, "Extensions"],
  [NS.saml, "Subject"],
  [NS.samlp, "NameIDPolicy"],
  [NS.saml, "Conditions"],
  [NS.samlp, "RequestedAuthnContext"],
  [NS.samlp, "Scoping"],
];

/**
 * The request follows the AuthnRequestType schema (SPID ErrorCode nr08): only its attributes,
 * booleans that are booleans, its child elements at most once each and in order, no stray text.
 * (Values with a SPID ErrorCode of their own are left to their own checks.)
 */
export const checkSchema: Check = (check) => {
  const { request } = check;
  for (let i = 0; i < request.attributes.length; i++) {
    const a = request.attributes.item(i)!;
    if (a.name === "xmlns" || a.prefix === "xmlns") continue;
    if (a.namespaceURI === null && !ATTRIBUTES.has(a.name)) throw spidError(8, `AuthnRequest has no attribute ${a.name}`);
  }
  const forceAuthn = request.getAttribute("ForceAuthn");
  if (request.hasAttribute("ForceAuthn") && booleanValue(forceAuthn ?? "") === undefined) throw spidError(8, "ForceAuthn is not a boolean");
  if (request.hasAttribute("IsPassive") && booleanValue(request.getAttribute("IsPassive") ?? "") === undefined) throw spidError(8, "IsPassive is not a boolean");
  check.found.forceAuthn = booleanValue(forceAuthn ?? "") ?? false;
  let position = 0;
  for (let node = request.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 3 || node.nodeType === 4) {
      if ((node.nodeValue ?? "").trim()) throw spidError(8, "text outside the elements");
      continue;
    }
    if (node.nodeType !== 1) continue;
    const e = node as unknown as { namespaceURI: string | null; localName: string };
    const at = CHILDREN.findIndex(([ns, name]) => ns === e.namespaceURI && name === e.localName);
    if (at < 0) throw spidError(8, `AuthnRequest has no child element ${e.localName}`);
    if (at < position) throw spidError(8, `${e.localName} is out of order or repeated`);
    position = at + 1;
  }
};
