import { randomBytes } from "node:crypto";

/** A random identifier: 128 bits, base64url (22 characters). Unguessable, so also fit for URLs. */
export function newId(): string {
  return randomBytes(16).toString("base64url");
}

/** A random secret token (256 bits, base64url): session tokens, confirmation links. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}
