/**
 * SPID errors, as AgID's "Tabella messaggi di anomalia" lists them. Those met before the request
 * is known to come from a registered service provider (nr02–nr07, nr10) are shown to the user on
 * an error page with an HTTP error status, as nothing may be sent back to an unverified sender.
 * The others go back to the service provider in a signed Response, with the SAML status, the
 * second-level status and `StatusMessage` "ErrorCode nrNN".
 */
export const STATUS = {
  success: "urn:oasis:names:tc:SAML:2.0:status:Success",
  requester: "urn:oasis:names:tc:SAML:2.0:status:Requester",
  responder: "urn:oasis:names:tc:SAML:2.0:status:Responder",
  versionMismatch: "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
  requestUnsupported: "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported",
  noAuthnContext: "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext",
  noPassive: "urn:oasis:names:tc:SAML:2.0:status:NoPassive",
  invalidNameIdPolicy: "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy",
  authnFailed: "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
  partialLogout: "urn:oasis:names:tc:SAML:2.0:status:PartialLogout",
} as const;

interface ErrorCodeSpec {
  /** Shown on an error page with this HTTP status; absent: answered to the service provider. */
  httpStatus?: number;
  status?: string;
  subStatus?: string;
  /** What went wrong, for the user (error page) and the logs; never secrets. */
  summary: string;
}

export const SPID_ERRORS = {
  2: { httpStatus: 503, summary: "the identity provider is unavailable" },
  3: { httpStatus: 500, summary: "system error" },
  4: { httpStatus: 403, summary: "the binding's format is not correct" },
  5: { httpStatus: 403, summary: "the signature does not verify" },
  6: { httpStatus: 403, summary: "the binding does not allow this HTTP method" },
  7: { httpStatus: 403, summary: "the request's signature cannot be checked" },
  8: { status: STATUS.requester, subStatus: STATUS.requestUnsupported, summary: "the request does not follow the SAML schema" },
  9: { status: STATUS.versionMismatch, summary: "Version is missing, malformed or not 2.0" },
  10: { httpStatus: 403, summary: "Issuer is missing, malformed or not a registered service provider" },
  11: { status: STATUS.requester, subStatus: STATUS.requestUnsupported, summary: "ID is missing or malformed" },
  12: { status: STATUS.responder, subStatus: STATUS.noAuthnContext, summary: "RequestedAuthnContext is missing, malformed or asks for what is not offered" },
  13: { status: STATUS.requester, subStatus: STATUS.requestUnsupported, summary: "IssueInstant is missing, malformed, outside the allowed clock skew, or the request was already received" },
  14: { status: STATUS.requester, subStatus: STATUS.requestUnsupported, summary: "Destination is missing or not this identity provider's endpoint" },
  15: { status: STATUS.responder, subStatus: STATUS.noPassive, summary: "IsPassive must not be present" },
  16: { status: STATUS.requester, subStatus: STATUS.requestUnsupported, summary: "AssertionConsumerService does not match the service provider's metadata" },
  17: { status: STATUS.requester, subStatus: STATUS.invalidNameIdPolicy, summary: "NameIDPolicy's Format is missing or not transient" },
  18: { status: STATUS.requester, subStatus: STATUS.requestUnsupported, summary: "AttributeConsumingServiceIndex is malformed or not in the service provider's metadata" },
  19: { status: STATUS.responder, subStatus: STATUS.authnFailed, summary: "authentication failed: wrong credentials repeatedly" },
  20: { status: STATUS.responder, subStatus: STATUS.authnFailed, summary: "the user has no credentials for the level asked for" },
  21: { status: STATUS.responder, subStatus: STATUS.authnFailed, summary: "the authentication timed out" },
  22: { status: STATUS.responder, subStatus: STATUS.authnFailed, summary: "the user refused to release the attributes" },
  23: { status: STATUS.responder, subStatus: STATUS.authnFailed, summary: "the identity is suspended or revoked" },
  25: { status: STATUS.responder, subStatus: STATUS.authnFailed, summary: "the user cancelled the authentication" },
  30: { status: STATUS.responder, subStatus: STATUS.authnFailed, summary: "the identity is not of the type asked for" },
} as const satisfies Record<number, ErrorCodeSpec>;

export type SpidErrorNumber = keyof typeof SPID_ERRORS;

export class SpidError extends Error {
  readonly code: SpidErrorNumber;
  /** What exactly was wrong, for logs and tests (the wire carries only the ErrorCode). */
  readonly detail: string;

  constructor(code: SpidErrorNumber, detail: string) {
    super(`ErrorCode nr${String(code).padStart(2, "0")}: ${detail}`);
    this.name = "SpidError";
    this.code = code;
    this.detail = detail;
  }

  get spec(): ErrorCodeSpec {
    return SPID_ERRORS[this.code];
  }

  /** "ErrorCode nr19": the StatusMessage SPID service providers look for. */
  get statusMessage(): string {
    return `ErrorCode nr${String(this.code).padStart(2, "0")}`;
  }

  /** Shown to the user rather than answered to the service provider. */
  get onPage(): boolean {
    return "httpStatus" in this.spec;
  }
}

export const spidError = (code: SpidErrorNumber, detail: string) => new SpidError(code, detail);
