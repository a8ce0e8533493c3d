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
 * Signs a pkijs object whose first field is the signed part (Certificate, CertificateRevocationList,
 * BasicOCSPResponse's ResponseData): sets the algorithm, encodes the TBS once, signs those bytes,
 * and keeps them, so that what is written is exactly what was signed.
 */
export async function signTbs(
  object: { tbsView: Uint8Array; signatureValue?: asn1js.BitString; toSchema(encodeFlag?: boolean): asn1js.Sequence },
  setAlgorithm: (algorithm: pkijs.AlgorithmIdentifier) => void,
  signer: Signer,
): Promise<void> {
  setAlgorithm(signer.algorithm());
  const tbs = object.toSchema(true).valueBlock.value[0]!;
  object.tbsView = new Uint8Array(tbs.toBER());
  object.signatureValue = new asn1js.BitString({ valueHex: await signer.sign(object.tbsView) });
}
