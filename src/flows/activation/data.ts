import type { OtpChannel } from "../../identity/otp.ts";

/** What an activation (seed 002's six steps) remembers between its steps. */
export interface ActivationData {
  /** The MAC of the e-mailed link's token: whoever has the link may open (and resume) the flow, from any browser. */
  link: string;
  /** Where the codes of steps 2 and 6 go: the mobile where the request gave one, else the e-mail address. */
  channel: OtpChannel;
  /** Whether the link was opened (which proves the e-mail address, and sent the first code). */
  opened?: boolean;
  /** Where the last code went, masked, to say so again. */
  sentTo?: string;
  /** The certificates the activation issued, for its last page. */
  issued?: { organization: string; serial: string; subject: string }[];
}

export const ACTIVATION = "activation";

/** The two codes, each bound to its step. */
export const activationPurpose = (flowId: string, step: "code" | "final_code") => `flow:${flowId}:${step}`;

/** The MAC input of a link's token, bound to its flow. */
export const linkInput = (flowId: string, token: string) => `activation-link:${flowId}:${token}`;
