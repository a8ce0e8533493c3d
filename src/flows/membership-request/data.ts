import type { CardEvidence } from "../professionals/card.ts";

/** What a request made with a professional card remembers between its steps. */
export interface MembershipRequestData {
  /** The form as typed (no secrets in it), checked again when the card has been seen. */
  request?: Record<string, string>;
  /** The card accepted, and the names it states, until the browser comes back to confirm. */
  card?: { evidence: CardEvidence; givenName: string; familyName: string };
  /** The MAC of the endpoint's answer the browser must bring back (professionals/card.ts). */
  cardAnswer?: string;
  /** Once made: the membership requested and its organisation's name, for the last page. */
  membership?: string;
  organization?: string;
}

export const MEMBERSHIP_REQUEST = "membership_request";
