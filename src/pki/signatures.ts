import { PDF, PdfArray, PdfName, PdfNumber, PdfString } from "@libpdf/core";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { bytes, digest, owned } from "./algorithms.ts";
import { CMS_OID } from "./cms.ts";

/**
 * Verifying electronic signatures made elsewhere: a CMS SignedData (CAdES, a `.p7m` with the
 * document inside or beside it) and the signatures of a PDF (PAdES: a CMS over the file's byte
 * ranges). Whether the signer's certificate is to be trusted is the caller's question
 * (validation.ts); here: does the signature verify, over exactly what, by which certificate.
 */
export type SignatureVerdict =
  | { ok: true; signer: pkijs.Certificate; certificates: pkijs.Certificate[]; signingTime: number | null; contentType: string; content: Buffer; hasSigningCertificateV2: boolean }
  | { ok: false; detail: string };

function signingTimeOf(signerInfo: pkijs.SignerInfo): number | null {
  const attribute = signerInfo.signedAttrs?.attributes.find((a) => a.type === CMS_OID.signingTime);
  const value = attribute?.values[0] as asn1js.UTCTime | asn1js.GeneralizedTime | undefined;
  return value ? value.toDate().getTime() : null;
}

/** ESS signing-certificate-v2's first certificate hash (SHA-256 unless stated) must be the signer's. */
function signingCertificateMatches(signerInfo: pkijs.SignerInfo, signer: pkijs.Certificate): boolean | undefined {
  const attribute = signerInfo.signedAttrs?.attributes.find((a) => a.type === CMS_OID.signingCertificateV2);
  if (!attribute) return undefined;
  const certs = (attribute.values[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
  const first = certs.valueBlock.value[0] as asn1js.Sequence;
  const parts = first.valueBlock.value;
  const hasAlgorithm = parts[0] instanceof asn1js.Sequence;
  if (hasAlgorithm && new pkijs.AlgorithmIdentifier({ schema: parts[0] }).algorithmId !== "2.16.840.1.101.3.4.2.1") return false;
  const certHash = bytes((parts[hasAlgorithm ? 1 : 0] as asn1js.OctetString).valueBlock.valueHexView);
  return certHash.equals(digest("SHA-256", signer.toSchema().toBER()));
}

/**
 * Verifies a CMS SignedData with one signer: the signed attributes' signature by the certificate
 * the SignerInfo names (carried in the SignedData), the message digest over the content (the
 * encapsulated one, or `detached`), and ESS signing-certificate-v2 when present. Accepts DER or
 * Base64 (as `.p7m` files come).
 */
export async function verifySignedData(cms: Uint8Array, detached?: Uint8Array): Promise<SignatureVerdict> {
  let der = Buffer.from(cms);
  const text = der.subarray(0, 64).toString("latin1");
  if (/^(-----BEGIN|MI[A-Za-z0-9+/])/.test(text)) der = Buffer.from(der.toString("latin1").replace(/-----[^-]+-----|\s/g, ""), "base64");
  let signed: pkijs.SignedData;
  try {
    const info = pkijs.ContentInfo.fromBER(owned(der));
    if (info.contentType !== CMS_OID.signedData) return { ok: false, detail: "not a CMS SignedData" };
    signed = new pkijs.SignedData({ schema: info.content });
  } catch {
    return { ok: false, detail: "not a CMS SignedData" };
  }
  if (signed.signerInfos.length !== 1) return { ok: false, detail: `${signed.signerInfos.length} signers: one is expected` };
  const eContent = signed.encapContentInfo.eContent;
  const content = detached ? Buffer.from(detached) : eContent ? bytes(eContent.getValue()) : undefined;
  if (!content) return { ok: false, detail: "the signed content is neither inside nor given" };
  if (detached && eContent) return { ok: false, detail: "the signature carries content of its own" };
  try {
    const result = await signed.verify({ signer: 0, data: new Uint8Array(content).buffer, extendedMode: true, checkChain: false });
    if (!result.signatureVerified || !result.signerCertificate) return { ok: false, detail: result.message ?? "the signature does not verify" };
    const signerInfo = signed.signerInfos[0]!;
    const essMatches = signingCertificateMatches(signerInfo, result.signerCertificate);
    if (essMatches === false) return { ok: false, detail: "signing-certificate-v2 names another certificate" };
    const certificates = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
    return { ok: true, signer: result.signerCertificate, certificates, signingTime: signingTimeOf(signerInfo), contentType: signed.encapContentInfo.eContentType, content, hasSigningCertificateV2: essMatches === true };
  } catch (error) {
    return { ok: false, detail: (error as Error).message || "the signature does not verify" };
  }
}

/** A PDF signature: where its CMS sits and which bytes it covers. */
export interface PdfSignature {
  byteRange: [number, number, number, number];
  cms: Uint8Array;
  subFilter: string | undefined;
}

/** The signatures of a PDF (its signed signature fields), each with its ByteRange and CMS. */
export async function pdfSignatures(document: Uint8Array): Promise<PdfSignature[]> {
  const pdf = await PDF.load(document);
  const form = pdf.getForm();
  const found: PdfSignature[] = [];
  for (const field of form?.getSignatureFields() ?? []) {
    const dict = field.getSignatureDict();
    if (!dict) continue;
    const range = dict.get("ByteRange");
    const contents = dict.get("Contents");
    if (!(range instanceof PdfArray) || !(contents instanceof PdfString) || range.length !== 4) continue;
    const numbers = [0, 1, 2, 3].map((i) => range.at(i)).map((n) => (n instanceof PdfNumber ? n.value : Number.NaN)) as [number, number, number, number];
    const subFilter = dict.get("SubFilter");
    found.push({ byteRange: numbers, cms: contents.bytes, subFilter: subFilter instanceof PdfName ? subFilter.value : undefined });
  }
  return found;
}

/**
 * Verifies a PDF's one signature as PAdES asks: its ByteRange covers the whole file but the
 * signature's own hex string (so nothing was added after signing), and the CMS, detached, verifies
 * over those bytes. Returns the verdict and the signed bytes.
 */
export async function verifyPdfSignature(document: Uint8Array): Promise<SignatureVerdict & { byteRange?: [number, number, number, number] }> {
  let signatures: PdfSignature[];
  try {
    signatures = await pdfSignatures(document);
  } catch {
    return { ok: false, detail: "not a PDF" };
  }
  if (signatures.length !== 1) return { ok: false, detail: signatures.length === 0 ? "the PDF is not signed" : "the PDF has more than one signature" };
  const { byteRange: [a, b, c, d], cms } = signatures[0]!;
  const whole = a === 0 && b > 0 && c > b && c + d === document.length && document[b] === 0x3c && document[c - 1] === 0x3e;
  if (!whole) return { ok: false, detail: "the signature does not cover the whole file" };
  // Contents is padded with zeros after the DER: the CMS is exactly its own length.
  const parsed = asn1js.fromBER(owned(cms));
  if (parsed.offset === -1) return { ok: false, detail: "the signature is not DER" };
  const signedBytes = Buffer.concat([document.subarray(a, a + b), document.subarray(c, c + d)]);
  const verdict = await verifySignedData(cms.subarray(0, parsed.offset), signedBytes);
  return { ...verdict, byteRange: [a, b, c, d] };
}
