import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { TesseraError } from "../shared/errors.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { bytes, digest, digestLength, HASH_ALGORITHMS, type HashAlgorithm, hashByOid, owned } from "./algorithms.ts";
import { requireHierarchy } from "./authorities.ts";
import { CMS_OID, signedData, signingCertificateV2 } from "./cms.ts";
import type { PkiDeps } from "./deps.ts";

/** PKIStatus and PKIFailureInfo bits (RFC 3161 §2.4.2). */
const PKI_STATUS = { granted: 0, rejection: 2 } as const;
const FAILURE = { badAlg: 0, badRequest: 2, badDataFormat: 5, unacceptedPolicy: 15, unacceptedExtension: 16 } as const;
type Failure = keyof typeof FAILURE;

const FAILURE_TEXT: Record<Failure, string> = {
  badAlg: "unsupported hash algorithm: SHA-256, SHA-384 or SHA-512",
  badRequest: "the request is not a version 1 TimeStampReq",
  badDataFormat: "the request is not DER",
  unacceptedPolicy: "the requested policy is not this TSA's",
  unacceptedExtension: "request extensions are not supported",
};

/** A rejection: status, the reason in words, the failure bit (a named BIT STRING, trailing zeros not written). */
function rejection(failure: Failure): Buffer {
  const bit = FAILURE[failure];
  const octets = new Uint8Array(Math.floor(bit / 8) + 1);
  octets[octets.length - 1] = 0x80 >> bit % 8;
  const status = new pkijs.PKIStatusInfo({
    status: PKI_STATUS.rejection,
    statusStrings: [new asn1js.Utf8String({ value: FAILURE_TEXT[failure] })],
    failInfo: new asn1js.BitString({ valueHex: octets, unusedBits: 7 - (bit % 8) }),
  });
  return Buffer.from(new pkijs.TimeStampResp({ status }).toSchema().toBER());
}

/**
 * The tenant's time-stamping authority (RFC 3161, with the ESS signing-certificate-v2 of RFC 5816):
 * a TimeStampResp for a TimeStampReq over a SHA-256/384/512 digest, stating the TSA policy, the time
 * to the second with the policy's accuracy, the request's nonce, and a serial number from one
 * sequence for all nodes (each token has its own, in order). The TSA certificate is included when
 * the request asks (certReq). What cannot be granted is rejected with the failure named.
 */
export async function timestamp(deps: PkiDeps, tenant: Tenant, body: Uint8Array): Promise<Buffer> {
  let request: pkijs.TimeStampReq;
  try {
    request = pkijs.TimeStampReq.fromBER(owned(body));
  } catch {
    return rejection("badDataFormat");
  }
  if (request.version !== 1) return rejection("badRequest");
  const hash = hashByOid(request.messageImprint.hashAlgorithm.algorithmId);
  const imprint = bytes(request.messageImprint.hashedMessage.valueBlock.valueHexView);
  if (!hash || !HASH_ALGORITHMS.includes(hash as HashAlgorithm) || imprint.length !== digestLength(hash)) return rejection("badAlg");
  const policy = tenant.policy.pki.tsa;
  if (request.reqPolicy !== undefined && request.reqPolicy !== policy.policy) return rejection("unacceptedPolicy");
  if (request.extensions?.length) return rejection("unacceptedExtension");

  const { tsa } = await requireHierarchy(deps, tenant).catch((err: unknown) => {
    throw err instanceof TesseraError ? err : new TesseraError("pki.tsa_unavailable", "time-stamping is not available", { status: 503, cause: err });
  });
  const serial = await deps.repos.counters.next(tenant.id, "tsa-serial", 1);
  const now = deps.clock.now();
  const info = new pkijs.TSTInfo({
    version: 1,
    policy: policy.policy,
    messageImprint: request.messageImprint,
    serialNumber: new asn1js.Integer({ value: serial }),
    genTime: new Date(Math.floor(now / 1000) * 1000),
    accuracy: new pkijs.Accuracy(
      policy.accuracyMillis >= 1000 && policy.accuracyMillis % 1000 === 0 ? { seconds: policy.accuracyMillis / 1000 } : { millis: policy.accuracyMillis },
    ),
    ...(request.nonce ? { nonce: request.nonce } : {}),
    tsa: new pkijs.GeneralName({ type: 4, value: tsa.certificate.subject }),
  });
  const content = Buffer.from(info.toSchema().toBER());
  const token = await signedData({
    contentType: CMS_OID.tstInfo,
    content,
    messageDigest: digest(tsa.signer.mechanism.hash, content),
    signer: tsa.signer,
    certificate: tsa,
    // certReq false: the token names its signer (sid, ESS) but carries no certificate (RFC 3161 §2.4.1).
    embedCertificate: request.certReq === true,
    attributes: [signingCertificateV2(tsa)],
  });
  const response = new pkijs.TimeStampResp({ status: new pkijs.PKIStatusInfo({ status: PKI_STATUS.granted }), timeStampToken: token });
  return Buffer.from(response.toSchema().toBER());
}
