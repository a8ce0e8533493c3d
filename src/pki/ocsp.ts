import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { StatusWithResponse } from "../store/repos/pki.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type AnyHash, bytes, digest, hashByOid, owned } from "./algorithms.ts";
import { type Authority, loadHierarchy } from "./authorities.ts";
import { serialHex } from "./certificate.ts";
import { signed } from "./signer.ts";
import type { PkiDeps } from "./deps.ts";

/** OCSPResponseStatus (RFC 6960 §4.2.1). */
export const OCSP_STATUS = { successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;

const ID_PKIX_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";
const ID_PKIX_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2";
/** Certificates asked about in one request: enough for any client, not a lever for making us sign much. */
const MAX_REQUESTS = 10;
/** RFC 8954 §2.1: a nonce of 1 to 32 octets (its extnValue wraps it in an OCTET STRING). */
const MAX_NONCE_EXTENSION = 34;
const HOUR = 3_600_000;
const MINUTE = 60_000;

const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/** A response with no signed part: the request could not be answered (RFC 6960 §2.3). */
export function ocspStatusOnly(status: Exclude<(typeof OCSP_STATUS)[keyof typeof OCSP_STATUS], 0>): Buffer {
  return Buffer.from(new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) }).toSchema().toBER());
}

type Status = { kind: "good" } | { kind: "revoked"; at: number; reason: number | null } | { kind: "unknown" };

/** What a response signed ahead stands for: it is served only while the certificate's status is still this. */
const statusKey = (status: Status) => (status.kind === "revoked" ? `revoked:${status.at}:${status.reason ?? ""}` : status.kind);

function statusOf(row: StatusWithResponse | undefined): Status {
  if (!row) return { kind: "unknown" };
  return row.revoked_at === null ? { kind: "good" } : { kind: "revoked", at: row.revoked_at, reason: row.revocation_reason };
}

/** CertStatus (RFC 6960 §4.2.1): good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL. */
function certStatus(status: Status): asn1js.AsnType {
  if (status.kind === "good") return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
  if (status.kind === "unknown") return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
  return new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 1 },
    value: [
      new asn1js.GeneralizedTime({ valueDate: seconds(status.at) }),
      ...(status.reason !== null
        ? [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Enumerated({ value: status.reason })] })]
        : []),
    ],
  });
}

/** The issuer's name and key hashes by hash algorithm, as CertIDs carry them (computed once per authority). */
const issuerHashes = new WeakMap<Authority, Map<AnyHash, { name: string; key: string }>>();

function issuerHash(issuer: Authority, hash: AnyHash): { name: string; key: string } {
  let hashes = issuerHashes.get(issuer);
  if (!hashes) {
    hashes = new Map();
    issuerHashes.set(issuer, hashes);
  }
  let entry = hashes.get(hash);
  if (!entry) {
    const name = digest(hash, issuer.certificate.subject.toSchema().toBER()).toString("hex");
    const key = digest(hash, bytes(issuer.certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)).toString("hex");
    entry = { name, key };
    hashes.set(hash, entry);
  }
  return entry;
}

/** The responder's certificate as an ASN.1 value, decoded once per authority. */
const responderCertificates = new WeakMap<Authority, asn1js.AsnType>();
function responderCertificate(ocsp: Authority): asn1js.AsnType {
  let decoded = responderCertificates.get(ocsp);
  if (!decoded) {
    decoded = asn1js.fromBER(owned(ocsp.der)).result;
    responderCertificates.set(ocsp, decoded);
  }
  return decoded;
}

/** Who a request's CertID names: a serial of `issuer` under a hash we know, or nobody we answer for. */
function identify(request: pkijs.Request, issuer: Authority): { hash: AnyHash; serial: string } | undefined {
  const id = request.reqCert;
  const hash = hashByOid(id.hashAlgorithm.algorithmId);
  if (!hash) return undefined;
  const expected = issuerHash(issuer, hash);
  const name = bytes(id.issuerNameHash.valueBlock.valueHexView).toString("hex");
  const key = bytes(id.issuerKeyHash.valueBlock.valueHexView).toString("hex");
  if (name !== expected.name || key !== expected.key) return undefined;
  return { hash, serial: serialHex(id.serialNumber) };
}

function nonceOf(request: pkijs.OCSPRequest): pkijs.Extension | null | "invalid" {
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
  if (!nonce) return null;
  const length = nonce.extnValue.valueBlock.valueHexView.byteLength;
  return length >= 1 && length <= MAX_NONCE_EXTENSION ? nonce : "invalid";
}

/**
 * Answers an OCSP request (RFC 6960) for the tenant's issuing CA, signed by its delegated responder:
 * good, revoked (time and reason) or unknown per certificate, the request's nonce echoed (RFC 8954).
 * The status is read from the store on every request, so a revocation holds at once on every node.
 * A request for one certificate without a nonce (what browsers and stapling servers send) is
 * answered with the response signed ahead for the same status while it is fresh, so that a
 * signature is made once per status and refresh period, not per request. Anything that is not
 * a well-formed request gets `malformedRequest`.
 */
export async function answerOcsp(deps: PkiDeps, tenant: Tenant, body: Uint8Array): Promise<Buffer> {
  let request: pkijs.OCSPRequest;
  try {
    request = pkijs.OCSPRequest.fromBER(owned(body));
  } catch {
    return ocspStatusOnly(OCSP_STATUS.malformedRequest);
  }
  const requests = request.tbsRequest.requestList;
  const nonce = nonceOf(request);
  if (requests.length === 0 || requests.length > MAX_REQUESTS || nonce === "invalid") return ocspStatusOnly(OCSP_STATUS.malformedRequest);
  const hierarchy = await loadHierarchy(deps, tenant);
  if (!hierarchy) return ocspStatusOnly(OCSP_STATUS.unauthorized);
  const { issuing, ocsp } = hierarchy;
  const policy = tenant.policy.pki.ocsp;
  const now = deps.clock.now();

  const items = await Promise.all(
    requests.map(async (r) => {
      const who = identify(r, issuing);
      const row = who ? await deps.repos.pki.statusWithResponse(tenant.id, issuing.id, who.serial, who.hash) : undefined;
      return { request: r, who, row, status: statusOf(row) };
    }),
  );
  const [only] = items;
  const ahead = items.length === 1 && nonce === null && only!.row !== undefined;
  if (ahead) {
    const { row, status } = only!;
    if (row!.response_der !== null && row!.response_status === statusKey(status) && now - row!.response_this_update! < policy.refreshMinutes * MINUTE) {
      return Buffer.from(row!.response_der, "base64");
    }
  }

  const responses = items.map(
    ({ request: r, status }) =>
      new pkijs.SingleResponse({
        certID: r.reqCert,
        certStatus: certStatus(status),
        thisUpdate: seconds(now),
        nextUpdate: seconds(now + policy.validityHours * HOUR),
      }),
  );
  const data = new pkijs.ResponseData({
    // byKey (RFC 6960 §4.2.1): the SHA-1 of the responder's public key, its subjectKeyIdentifier.
    responderID: new asn1js.OctetString({ valueHex: ocsp.keyId }),
    producedAt: seconds(now),
    responses,
    ...(nonce ? { responseExtensions: [nonce] } : {}),
  });
  // BasicOCSPResponse: tbsResponseData, signatureAlgorithm, signature, certs [0] EXPLICIT (the responder's).
  const basic = await signed(data.toSchema(true) as asn1js.Sequence, ocsp.signer, [
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Sequence({ value: [responderCertificate(ocsp)] })] }),
  ]);
  const response = Buffer.from(
    new pkijs.OCSPResponse({
      responseStatus: new asn1js.Enumerated({ value: OCSP_STATUS.successful }),
      responseBytes: new pkijs.ResponseBytes({ responseType: ID_PKIX_OCSP_BASIC, response: new asn1js.OctetString({ valueHex: basic }) }),
    })
      .toSchema()
      .toBER(),
  );
  if (ahead) {
    await deps.repos.pki.putOcspResponse({
      tenant_id: tenant.id,
      issuer_id: issuing.id,
      serial: only!.who!.serial,
      hash_algorithm: only!.who!.hash,
      status: statusKey(only!.status),
      this_update: now,
      der: response.toString("base64"),
    });
  }
  return response;
}
