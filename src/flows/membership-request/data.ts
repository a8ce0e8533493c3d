import { createHash } from "node:crypto";
import type { Secrets } from "../../shared/crypto/secrets.ts";

/** What a request made with a professional card remembers between its steps. */
export interface MembershipRequestData {
  /** The form as typed (no secrets in it), checked again when the card has been seen. */
  request?: Record<string, string>;
  /** Once made: the membership requested and its organisation's name, for the last page. */
  membership?: string;
  organization?: string;
}

export const MEMBERSHIP_REQUEST = "membership_request";

/**
 * The proof that a chain came from a TLS handshake on this server's mutual-TLS endpoint, for this
 * flow: certificates are public, so a chain a client typed proves nothing; only the endpoint,
 * which saw the private key used, can make this MAC.
 */
export function handshakeProof(secrets: Secrets, flowId: string, chain: Uint8Array[]): string {
  return secrets.mac(handshakeInput(flowId, chain));
}

export function isHandshakeProof(secrets: Secrets, flowId: string, chain: Uint8Array[], proof: string): boolean {
  return secrets.macEquals(handshakeInput(flowId, chain), proof);
}

function handshakeInput(flowId: string, chain: Uint8Array[]): string {
  const digest = createHash("sha256");
  for (const der of chain) digest.update(createHash("sha256").update(der).digest());
  return `card-handshake:${flowId}:${digest.digest("hex")}`;
}
