import * as asn1js from "asn1js";
import type * as pkijs from "pkijs";
import type { PkiKeyRow } from "../store/repos/pki.ts";
import { defaultMechanism, digest, type KeyAlgorithm, type Mechanism, signatureAlgorithm } from "./algorithms.ts";
import type { Keystore } from "./keystore.ts";

/** A key that signs whole structures (certificates, CRLs, OCSP responses, CMS attributes) by digest. */
export interface Signer {
  key: PkiKeyRow;
  mechanism: Mechanism;
  /** The AlgorithmIdentifier that names the signatures it makes. */
  algorithm(): pkijs.AlgorithmIdentifier;
  sign(data: Uint8Array): Promise<Buffer>;
}

export function signerOf(keystore: Keystore, key: PkiKeyRow, mechanism: Mechanism = defaultMechanism(key.algorithm as KeyAlgorithm)): Signer {
  return {
    key,
    mechanism,
    algorithm: () => signatureAlgorithm(mechanism),
    sign: (data) => keystore.sign(key, digest(mechanism.hash, data), mechanism),
  };
}

/**
 * Signs a structure of the X.509 shape SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING }
 * (a certificate, a CRL; an OCSP BasicOCSPResponse begins the same way): encodes `tbs` once,
 * signs those bytes, and writes the whole from the same schema, so that what is written is
 * exactly what was signed. `trailing` follows the signature (a BasicOCSPResponse's certificates).
 */
export async function signed(tbs: asn1js.AsnType, signer: Signer, trailing: asn1js.AsnType[] = []): Promise<Buffer> {
  const signature = await signer.sign(new Uint8Array(tbs.toBER()));
  return Buffer.from(new asn1js.Sequence({ value: [tbs, signer.algorithm().toSchema(), new asn1js.BitString({ valueHex: signature }), ...trailing] }).toBER());
}
