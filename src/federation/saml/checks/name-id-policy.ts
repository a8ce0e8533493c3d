import { attribute, childrenNamed, NS } from "../xml.ts";
import { spidError } from "../errors.ts";
import { booleanValue, type Check } from "./context.ts";

export const TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

/** NameIDPolicy is present with Format transient (SPID Regole tecniche; ErrorCode nr17). */
export const checkNameIdPolicy: Check = (check) => {
  const policies = childrenNamed(check.request, NS.samlp, "NameIDPolicy");
  if (policies.length !== 1) throw spidError(17, "NameIDPolicy is missing");
  const policy = policies[0]!;
  if (attribute(policy, "Format") !== TRANSIENT) throw spidError(17, "NameIDPolicy's Format is not transient");
  const allowCreate = attribute(policy, "AllowCreate");
  if (allowCreate !== undefined && booleanValue(allowCreate) === undefined) throw spidError(17, "AllowCreate is not a boolean");
};
