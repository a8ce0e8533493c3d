import { createChallenge, verifySolution } from "altcha-lib/v1";
import type { Secrets } from "../shared/crypto/secrets.ts";

/**
 * ALTCHA proof of work: the browser must find the number n ≤ max for which
 * SHA-256(salt + n) is the challenge, which costs it a fraction of a second and a bot farm a
 * fortune; no outside service is involved. The challenge is signed (HMAC, key derived from the
 * master key) and kept in the flow, so a solution counts once, for that flow only.
 */
export interface CaptchaChallenge {
  algorithm: string;
  challenge: string;
  maxnumber: number;
  salt: string;
  signature: string;
}

function hmacKey(secrets: Secrets): string {
  return secrets.mac("captcha/hmac-key");
}

export async function newCaptcha(secrets: Secrets, maxNumber: number): Promise<CaptchaChallenge> {
  const c = await createChallenge({ hmacKey: hmacKey(secrets), maxNumber });
  return { algorithm: c.algorithm, challenge: c.challenge, maxnumber: c.maxnumber ?? maxNumber, salt: c.salt, signature: c.signature };
}

/** Whether `payload` (base64 JSON, as the widget posts it) solves this very challenge. */
export async function captchaSolved(secrets: Secrets, challenge: CaptchaChallenge, payload: string): Promise<boolean> {
  let decoded: { challenge?: unknown; salt?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(payload, "base64").toString("utf8")) as typeof decoded;
  } catch {
    return false;
  }
  if (decoded.challenge !== challenge.challenge || decoded.salt !== challenge.salt) return false;
  return verifySolution(payload, hmacKey(secrets), false).catch(() => false);
}
