import { attribute } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check } from "./context.ts";

/** xs:dateTime in UTC, as SAML requires (core §1.3.3): no time zone other than Z. */
const UTC_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

export function parseInstant(value: string | undefined): number | undefined {
  const m = value ? UTC_DATE_TIME.exec(value) : null;
  if (!m) return undefined;
  const time = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0);
  // Date.UTC rolls 2025-02-30 over to March: a date that does not exist is malformed.
  return new Date(time).toISOString().slice(0, 19) === value!.slice(0, 19) ? time : undefined;
}

/**
 * IssueInstant: present, a UTC xs:dateTime, within the tenant's clock skew of this server's time
 * either way (SPID ErrorCode nr13). A request id seen before is refused with the same code when
 * the request is recorded (federation/saml/sso.ts), on whichever node it arrives.
 */
export const checkIssueInstant: Check = (check) => {
  const instant = parseInstant(attribute(check.request, "IssueInstant"));
  if (instant === undefined) throw spidError(13, "IssueInstant is missing or not a UTC xs:dateTime");
  const skew = check.policy.clockSkewSeconds * 1000;
  if (Math.abs(check.now - instant) > skew) throw spidError(13, `IssueInstant is more than ${check.policy.clockSkewSeconds} s from this server's clock`);
  check.found.issueInstant = instant;
};
