import { randomBytes } from "node:crypto";
import { PDF, type Signer as PdfSigner } from "@libpdf/core";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { digest, HASH_OIDS, type HashAlgorithm, type Mechanism, owned, signatureAlgorithm } from "../pki/algorithms.ts";
import { CMS_OID, signedData, signingCertificateV2 } from "../pki/cms.ts";
import type { PkiDeps } from "../pki/deps.ts";
import { KeystoreError } from "../pki/keystore.ts";
import type { Signer } from "../pki/signer.ts";
import { timestamp } from "../pki/tsa.ts";
import { TesseraError } from "../shared/errors.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Credential } from "./credentials.ts";

/** The CMS attribute that carries a signature's time-stamp token (RFC 3161 appendix A, CAdES-T). */
const SIGNATURE_TIME_STAMP_TOKEN = "1.2.840.113549.1.9.16.2.14";

/** A signature level of signDoc (CSC `conformance_level`): basic, or with a trusted time. */
export type Level = "B-B" | "B-T";

/**
 * Signs a digest with the credential's key, unlocked for this one operation by the holder's share
 * (a key on a token needs none: the SAD was checked before). A share that no longer unlocks the
 * key (its password was reset without it) is said so, not a server error.
 */
function digestSigner(deps: PkiDeps, tenant: Tenant, credential: Credential, unlock: Buffer | undefined) {
  const keystore = deps.pki.keystores.holding(credential.key, tenant.policy.pki.keystore);
  return async (hash: Uint8Array, mechanism: Mechanism): Promise<Buffer> => {
    try {
      return await keystore.sign(credential.key, hash, mechanism, unlock);
    } catch (error) {
      if (error instanceof KeystoreError) throw new TesseraError("invalid_request", `The credential cannot sign: ${error.message}`, { status: 400 });
      throw error;
    }
  };
}

/** The credential's key as a signer of whole structures (CMS signed attributes). */
function credentialSigner(deps: PkiDeps, tenant: Tenant, credential: Credential, unlock: Buffer | undefined, mechanism: Mechanism): Signer {
  const sign = digestSigner(deps, tenant, credential, unlock);
  return { key: credential.key, mechanism, algorithm: () => signatureAlgorithm(mechanism), sign: (data) => sign(digest(mechanism.hash, data), mechanism) };
}

/** signatures/signHash: each hash signed as given, in order (base64 signatures: RSA blocks, ECDSA DER). */
export async function signHashes(deps: PkiDeps, tenant: Tenant, credential: Credential, unlock: Buffer | undefined, hashes: string[], mechanism: Mechanism): Promise<string[]> {
  const sign = digestSigner(deps, tenant, credential, unlock);
  const signed: string[] = [];
  // One after the other: the keystore's pool already signs on every core for every request.
  for (const hash of hashes) signed.push((await sign(Buffer.from(hash, "base64"), mechanism)).toString("base64"));
  return signed;
}

/** A time-stamp token from the tenant's TSA for `imprint` (RFC 3161), or why not. */
export async function timestampToken(deps: PkiDeps, tenant: Tenant, imprint: Uint8Array, hash: HashAlgorithm, nonce?: Buffer): Promise<Buffer> {
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({ hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash] }), hashedMessage: new asn1js.OctetString({ valueHex: owned(imprint) }) }),
    certReq: true,
    nonce: new asn1js.Integer({ valueHex: owned(nonce ?? randomBytes(8)) }),
  });
  const response = pkijs.TimeStampResp.fromBER(owned(await timestamp(deps, tenant, new Uint8Array(request.toSchema().toBER()))));
  if (response.status.status !== pkijs.PKIStatus.granted || !response.timeStampToken) {
    throw new TesseraError("invalid_request", `The time-stamping authority refused: ${response.status.statusStrings?.map((s) => s.valueBlock.value).join("; ") ?? "no reason given"}`, { status: 400 });
  }
  return Buffer.from(response.timeStampToken.toSchema().toBER());
}

/**
 * A PAdES baseline signature of a PDF (ETSI EN 319 142-1), made here (signDoc, the panel's signing
 * page): ETSI.CAdES.detached with signing-certificate-v2 and the chain, as an incremental update;
 * at B-T with a time-stamp token of the tenant's TSA over the signature.
 */
export async function signPdf(deps: PkiDeps, tenant: Tenant, credential: Credential, unlock: Buffer | undefined, document: Uint8Array, options: { level: Level; mechanism: Mechanism; reason?: string }): Promise<Buffer> {
  let pdf: PDF;
  try {
    pdf = await PDF.load(document);
  } catch {
    throw new TesseraError("invalid_request", "Invalid parameter documents: not a PDF", { status: 400 });
  }
  const { mechanism } = options;
  const signer = credentialSigner(deps, tenant, credential, unlock, mechanism);
  const pdfSigner: PdfSigner = {
    certificate: credential.certificate.der,
    certificateChain: credential.chain,
    keyType: mechanism.name === "ECDSA" ? "EC" : "RSA",
    signatureAlgorithm: mechanism.name === "ECDSA" ? "ECDSA" : mechanism.name === "RSA-PSS" ? "RSA-PSS" : "RSASSA-PKCS1-v1_5",
    sign: (data) => signer.sign(data),
  };
  const result = await pdf.sign({
    signer: pdfSigner,
    level: options.level,
    digestAlgorithm: mechanism.hash,
    ...(options.reason ? { reason: options.reason } : {}),
    ...(options.level === "B-T" ? { timestampAuthority: { timestamp: (imprint: Uint8Array, hash: HashAlgorithm) => timestampToken(deps, tenant, imprint, hash) } } : {}),
  });
  return Buffer.from(result.bytes);
}

/**
 * A CAdES baseline signature (ETSI EN 319 122-1), detached: SignedData over `content` with content
 * type, message digest, signing time and signing-certificate-v2 signed, the certificate and its
 * chain; at B-T a signature time-stamp token (unsigned) from the tenant's TSA.
 */
export async function signCades(deps: PkiDeps, tenant: Tenant, credential: Credential, unlock: Buffer | undefined, content: Uint8Array, options: { level: Level; mechanism: Mechanism }): Promise<Buffer> {
  const { mechanism } = options;
  const certificate = { der: credential.certificate.der, certificate: pkijs.Certificate.fromBER(owned(credential.certificate.der)) };
  const signingTime = new pkijs.Attribute({ type: CMS_OID.signingTime, values: [new asn1js.UTCTime({ valueDate: new Date(Math.floor(deps.clock.now() / 1000) * 1000) })] });
  const info = await signedData({
    contentType: CMS_OID.data,
    messageDigest: digest(mechanism.hash, content),
    signer: credentialSigner(deps, tenant, credential, unlock, mechanism),
    certificate,
    certificates: credential.chain,
    attributes: [signingTime, signingCertificateV2(certificate)],
  });
  if (options.level === "B-B") return Buffer.from(info.toSchema().toBER());
  const signed = new pkijs.SignedData({ schema: info.content });
  const signerInfo = signed.signerInfos[0]!;
  const token = await timestampToken(deps, tenant, digest("SHA-256", new Uint8Array(signerInfo.signature.valueBlock.valueHexView)), "SHA-256");
  signerInfo.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({
    type: 1,
    attributes: [new pkijs.Attribute({ type: SIGNATURE_TIME_STAMP_TOKEN, values: [asn1js.fromBER(owned(token)).result] })],
  });
  return Buffer.from(new pkijs.ContentInfo({ contentType: CMS_OID.signedData, content: signed.toSchema(true) }).toSchema().toBER());
}
