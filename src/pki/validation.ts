import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { bytes, digest, HASH_OIDS, owned } from "./algorithms.ts";
import { serialHex } from "./certificate.ts";
import { OID } from "./extensions.ts";

/**
 * Checking someone else's certificate (a qualified signature's, a CNS card's): its chain to one of
 * the trusted certificates, its validity at a time, and its revocation status from its own CA
 * (OCSP, else the CRL), fetched over HTTP when reachable.
 */
export type ChainVerdict =
  | { ok: true; chain: pkijs.Certificate[]; issuer: pkijs.Certificate }
  | { ok: false; problem: "untrusted" | "expired" | "invalid"; detail: string };

export type RevocationStatus = { status: "good"; source: "ocsp" | "crl" } | { status: "revoked"; source: "ocsp" | "crl"; at: number; reason: number | null } | { status: "unknown"; detail: string };

export function parseCertificates(pems: string[]): pkijs.Certificate[] {
  return pems.flatMap((pem) =>
    [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map((m) => pkijs.Certificate.fromBER(owned(Buffer.from(m[1]!.replace(/\s/g, ""), "base64")))),
  );
}

/** The certificate, chained through `intermediates` to one of `anchors`, valid at `at` (signatures, validity, CA constraints). */
export async function validateChain(leaf: pkijs.Certificate, intermediates: pkijs.Certificate[], anchors: pkijs.Certificate[], at: number): Promise<ChainVerdict> {
  if (anchors.length === 0) return { ok: false, problem: "untrusted", detail: "no trusted certificates are configured" };
  const checkDate = new Date(at);
  if (leaf.notAfter.value < checkDate || leaf.notBefore.value > checkDate) {
    return { ok: false, problem: "expired", detail: `valid from ${leaf.notBefore.value.toISOString()} to ${leaf.notAfter.value.toISOString()}` };
  }
  const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: anchors, certs: [leaf, ...intermediates], checkDate });
  const result = await engine.verify();
  if (!result.result) {
    const message = result.resultMessage ?? "";
    return { ok: false, problem: /expired|not yet valid|validity/i.test(message) ? "expired" : /no valid certificate paths|trusted/i.test(message) ? "untrusted" : "invalid", detail: message };
  }
  const chain = result.certificatePath ?? [leaf];
  // The certificate that signed the leaf (its issuer's name, and verifying its signature): revocation is asked of it.
  const named = chain.filter((c) => c !== leaf && c.subject.isEqual(leaf.issuer));
  for (const candidate of named) if (await leaf.verify(candidate).catch(() => false)) return { ok: true, chain, issuer: candidate };
  return { ok: false, problem: "invalid", detail: "the issuer of the certificate is not in its chain" };
}

function urlsOf(certificate: pkijs.Certificate, extnID: string, accessMethod?: string): string[] {
  const extension = certificate.extensions?.find((e) => e.extnID === extnID);
  if (!extension) return [];
  const urls: string[] = [];
  const parsed = extension.parsedValue as pkijs.InfoAccess | pkijs.CRLDistributionPoints | undefined;
  if (parsed instanceof pkijs.InfoAccess) {
    for (const d of parsed.accessDescriptions) if (d.accessMethod === accessMethod && d.accessLocation.type === 6) urls.push(String(d.accessLocation.value));
  } else if (parsed instanceof pkijs.CRLDistributionPoints) {
    for (const point of parsed.distributionPoints) {
      for (const name of Array.isArray(point.distributionPoint) ? point.distributionPoint : []) if (name.type === 6) urls.push(String(name.value));
    }
  }
  return urls.filter((u) => /^https?:\/\//.test(u));
}

/** A fetch that gives up: a CA's server that does not answer must not hold a request for long. */
async function fetchBytes(url: string, init: RequestInit, timeoutMs: number, maxBytes: number): Promise<Buffer | undefined> {
  try {
    const response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const body = Buffer.from(await response.arrayBuffer());
    return body.length <= maxBytes ? body : undefined;
  } catch {
    return undefined;
  }
}

const ONE_MB = 1 << 20;

/**
 * The revocation status of `certificate` from its issuer: OCSP first (RFC 6960; the response
 * signed by the issuer or by a responder it certified for OCSP signing, fresh, about this very
 * certificate), the CRL otherwise (signed by the issuer, not past its nextUpdate). "unknown" when
 * neither answers in time or verifies. Only called for certificates already chained to a trusted
 * anchor: the URLs come from certificates a trusted CA wrote.
 */
export async function revocationStatus(certificate: pkijs.Certificate, issuer: pkijs.Certificate, now: number, timeoutMs = 5000): Promise<RevocationStatus> {
  for (const url of urlsOf(certificate, OID.authorityInfoAccess, OID.ocsp)) {
    const status = await ocspStatus(certificate, issuer, url, now, timeoutMs);
    if (status) return status;
  }
  for (const url of urlsOf(certificate, OID.crlDistributionPoints)) {
    const status = await crlStatus(certificate, issuer, url, now, timeoutMs);
    if (status) return status;
  }
  return { status: "unknown", detail: "neither an OCSP responder nor a CRL answered" };
}

async function ocspStatus(certificate: pkijs.Certificate, issuer: pkijs.Certificate, url: string, now: number, timeoutMs: number): Promise<RevocationStatus | undefined> {
  const certId = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS["SHA-1"], algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: digest("SHA-1", issuer.subject.toSchema().toBER()) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: digest("SHA-1", bytes(issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)) }),
    serialNumber: certificate.serialNumber,
  });
  const request = new pkijs.OCSPRequest();
  request.tbsRequest.requestList = [new pkijs.Request({ reqCert: certId })];
  const body = await fetchBytes(url, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: Buffer.from(request.toSchema(true).toBER()) }, timeoutMs, ONE_MB);
  if (!body) return undefined;
  try {
    const response = pkijs.OCSPResponse.fromBER(owned(body));
    if (response.responseStatus.valueBlock.valueDec !== 0 || !response.responseBytes) return undefined;
    const basic = pkijs.BasicOCSPResponse.fromBER(owned(response.responseBytes.response.valueBlock.valueHexView));
    // The signer (its ResponderID): the issuer itself, or a responder the issuer certified for OCSP
    // signing. pkijs checks the chain and the signature, not the key usage: a certificate the CA
    // issued for anything else must not speak for it (RFC 6960 §4.2.2.2).
    const responder = basic.tbsResponseData.responderID as pkijs.RelativeDistinguishedNames | asn1js.OctetString;
    const names = (c: pkijs.Certificate) =>
      responder instanceof pkijs.RelativeDistinguishedNames ? responder.isEqual(c.subject) : bytes(responder.valueBlock.valueHexView).equals(digest("SHA-1", bytes(c.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)));
    if (!names(issuer)) {
      const delegated = (basic.certs ?? []).find(names);
      const forOcsp = delegated?.extensions?.some((e) => e.extnID === OID.extKeyUsage && (e.parsedValue as pkijs.ExtKeyUsage).keyPurposes.includes(OID.ocspSigning));
      if (!delegated || !forOcsp || !(await delegated.verify(issuer))) return undefined;
    }
    if (!(await basic.verify({ trustedCerts: [issuer] }))) return undefined;
    const single = basic.tbsResponseData.responses.find((r) => serialHex(r.certID.serialNumber) === serialHex(certificate.serialNumber));
    if (!single) return undefined;
    if (single.nextUpdate && single.nextUpdate.getTime() < now) return undefined;
    const status = single.certStatus as asn1js.BaseBlock;
    if (status.idBlock.tagNumber === 0) return { status: "good", source: "ocsp" };
    if (status.idBlock.tagNumber === 1) {
      const info = (status as asn1js.Constructed).valueBlock.value;
      const reason = info[1] ? ((info[1] as asn1js.Constructed).valueBlock.value[0] as asn1js.Enumerated).valueBlock.valueDec : null;
      return { status: "revoked", source: "ocsp", at: (info[0] as asn1js.GeneralizedTime).toDate().getTime(), reason };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

async function crlStatus(certificate: pkijs.Certificate, issuer: pkijs.Certificate, url: string, now: number, timeoutMs: number): Promise<RevocationStatus | undefined> {
  const body = await fetchBytes(url, { method: "GET" }, timeoutMs, 20 * ONE_MB);
  if (!body) return undefined;
  try {
    const crl = pkijs.CertificateRevocationList.fromBER(owned(body));
    if (!crl.issuer.isEqual(issuer.subject) || !(await crl.verify({ issuerCertificate: issuer }))) return undefined;
    if (crl.nextUpdate && crl.nextUpdate.value.getTime() < now) return undefined;
    const serial = serialHex(certificate.serialNumber);
    const entry = crl.revokedCertificates?.find((r) => serialHex(r.userCertificate) === serial);
    if (!entry) return { status: "good", source: "crl" };
    const reasonExtension = entry.crlEntryExtensions?.extensions.find((e) => e.extnID === OID.cRLReason);
    const reason = reasonExtension ? (asn1js.fromBER(reasonExtension.extnValue.valueBlock.valueHexView).result as asn1js.Enumerated).valueBlock.valueDec : null;
    return { status: "revoked", source: "crl", at: entry.revocationDate.value.getTime(), reason };
  } catch {
    return undefined;
  }
}

/** The subject's serialNumber attribute (EN 319 412-1 semantics: `TINIT-<codice fiscale>`), if it has one. */
export function subjectSerialNumber(certificate: pkijs.Certificate): string | undefined {
  return subjectAttribute(certificate, "2.5.4.5");
}

/** The value of the subject's first attribute of `type` (an OID), as text. */
export function subjectAttribute(certificate: pkijs.Certificate, type: string): string | undefined {
  const attribute = certificate.subject.typesAndValues.find((t) => t.type === type);
  return attribute ? String(attribute.value.valueBlock.value) : undefined;
}
