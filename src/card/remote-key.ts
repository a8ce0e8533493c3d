import { HASH_OIDS, type HashAlgorithm, signatureAlgorithm } from "../pki/algorithms.ts";
import type { CscClient } from "./csc-client.ts";
import type { Prompter } from "./prompt.ts";
import { CardError } from "./errors.ts";

/** How long the person has to type the one-time code before the signature is given up. */
export const CODE_TIMEOUT_MS = 3 * 60_000;

export interface SignatureRequest {
  credentialId: string;
  /** What the person recognises the key by (the organisation). */
  label: string;
  keyType: "RSA" | "EC";
  hash: HashAlgorithm;
  /** The digest to sign (computed on this machine: only it leaves). */
  digest: Buffer;
  /** The signing password (the token's PIN). */
  pin: string;
  /** Whether whoever asked still waits (a PKCS#11 application may have gone while the code was asked). */
  stillWanted?: () => boolean;
}

/**
 * One signature by the cloud key, as the CSC API allows it (SCAL2): a one-time code sent to the
 * holder and asked here, the digest authorised with the password and the code, then signed. RSA
 * signatures come as the PKCS#1 v1.5 block, ECDSA ones as DER.
 */
export async function signDigest(csc: CscClient, prompter: Prompter, request: SignatureRequest): Promise<Buffer> {
  const hashOid = HASH_OIDS[request.hash];
  const hash = request.digest.toString("base64");
  await csc.sendOtp(request.credentialId);
  const otp = await prompter.ask(`Tessera: one-time code to sign with "${request.label}" (sent to your phone or e-mail): `, { timeoutMs: CODE_TIMEOUT_MS });
  if (request.stillWanted && !request.stillWanted()) throw new CardError("refused", "The application that asked for the signature has gone: nothing was signed");
  const sad = await csc.authorize(request.credentialId, [hash], hashOid, request.pin, otp);
  const algorithm = signatureAlgorithm(request.keyType === "RSA" ? { name: "RSA-PKCS1", hash: request.hash } : { name: "ECDSA", hash: request.hash }).algorithmId;
  const [signature] = await csc.signHash(request.credentialId, sad, [hash], hashOid, algorithm);
  if (!signature) throw new TypeError("the server returned no signature");
  return signature;
}
