/** What a request made with a professional card remembers between its steps. */
export interface MembershipRequestData {
  /** The form as typed (no secrets in it), checked again when the card has been seen. */
  request?: Record<string, string>;
  /** Once made: the membership requested and its organisation's name, for the last page. */
  membership?: string;
  organization?: string;
}

export const MEMBERSHIP_REQUEST = "membership_request";
