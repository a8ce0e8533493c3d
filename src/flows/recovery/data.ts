/**
 * What a password recovery remembers. The flow names its account only once a first proof (the
 * security answer, the e-mail link) has succeeded: before that, a recovery for a real account and
 * one for an identifier nobody has are the same row.
 */
export interface RecoveryData {
  /** The identifier as given, normalised: the brute-force key and, for unknown ones, the seed of a decoy. */
  identifier?: string;
  /** The security question shown (for an unknown identifier, a decoy chosen from it). */
  questionId?: string;
  /** Set once the second proof is under way: where the code went. */
  codeChannel?: "sms" | "email";
  /** Where the code went, masked, to say so again on the page. */
  sentTo?: string;
}

export const RECOVERY = "recovery";

export const recoveryPurposes = {
  link: (flowId: string) => `flow:${flowId}:recovery_link`,
  code: (flowId: string) => `flow:${flowId}:recovery_code`,
};
