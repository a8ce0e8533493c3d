import { PDF, type Signer } from "@libpdf/core";
import { digest, HASH_OIDS, type HashAlgorithm } from "../pki/algorithms.ts";
import { certifiedKey } from "./certificates.ts";
import type { CscClient, RemoteCredential } from "./csc-client.ts";
import type { Prompter } from "./prompt.ts";
import { signDigest } from "./remote-key.ts";
import { CardError } from "./errors.ts";

/**
 * `tessera card sign`: a PAdES B-T signature (ETSI EN 319 142-1) made on this machine. The PDF
 * library computes what is signed here; only its SHA-256 digest goes to the server's signHash,
 * and the signature's digest to its time-stamping authority.
 */
export async function signPdfLocally(csc: CscClient, prompter: Prompter, credential: RemoteCredential, document: Uint8Array, options: { pin: string; reason?: string }): Promise<Uint8Array> {
  let pdf: PDF;
  try {
    pdf = await PDF.load(document);
  } catch {
    throw new CardError("refused", "The file is not a PDF");
  }
  const [leaf, ...chain] = credential.certificates;
  if (!leaf) throw new CardError("server", "The server gave no certificate for the credential");
  const key = certifiedKey(leaf);
  const hash: HashAlgorithm = "SHA-256";
  const signer: Signer = {
    certificate: leaf,
    certificateChain: chain,
    keyType: key.key.type,
    signatureAlgorithm: key.key.type === "EC" ? "ECDSA" : "RSASSA-PKCS1-v1_5",
    sign: async (data) => signDigest(csc, prompter, { credentialId: credential.id, label: key.label, keyType: key.key.type, hash, digest: digest(hash, data), pin: options.pin }),
  };
  const { bytes } = await pdf.sign({
    signer,
    level: "B-T",
    digestAlgorithm: hash,
    ...(options.reason ? { reason: options.reason } : {}),
    timestampAuthority: { timestamp: (imprint: Uint8Array, imprintHash: HashAlgorithm) => csc.timestamp(imprint, HASH_OIDS[imprintHash]) },
  });
  return bytes;
}
