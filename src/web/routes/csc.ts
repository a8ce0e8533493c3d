import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createLocalJWKSet, jwtVerify } from "jose";
import { cscResource } from "../../federation/oidc/configuration.ts";
import { publicKeySet } from "../../federation/signing-keys.ts";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { digest, type KeyAlgorithm } from "../../pki/algorithms.ts";
import { hashOf, mechanismOf } from "../../signing/algorithms.ts";
import { authorizeCredential, checkSigningPassword, otpDestination, sendSigningCode, spendAuthorization } from "../../signing/authorization.ts";
import { checkCanSign, type Credential, credentialInfo, credentialOf, credentialsOf } from "../../signing/credentials.ts";
import { type Level, signCades, signHashes, signPdf, timestampToken } from "../../signing/signatures.ts";
import { recordAuditBy } from "../../audit/service.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { renderError } from "../render-error.ts";
import { actorOf, pkiDeps, tenantUrl, type WebServices } from "../services.ts";

type Body = Record<string, unknown>;

const invalid = (description: string) => new TesseraError("invalid_request", description, { status: 400 });

/** A request parameter of the type the CSC API gives it, or the API's own words for its absence. */
const param = {
  string(body: Body, name: string): string {
    const value = body[name];
    if (typeof value !== "string" || value === "") throw invalid(`Missing (or invalid type) string parameter ${name}`);
    return value;
  },
  optionalString(body: Body, name: string): string | undefined {
    const value = body[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw invalid(`Invalid type string parameter ${name}`);
    return value;
  },
  boolean(body: Body, name: string, fallback: boolean): boolean {
    const value = body[name];
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") throw invalid(`Invalid type boolean parameter ${name}`);
    return value;
  },
  integer(body: Body, name: string): number {
    const value = body[name];
    if (typeof value !== "number" || !Number.isInteger(value)) throw invalid(`Missing (or invalid type) integer parameter ${name}`);
    return value;
  },
  strings(body: Body, name: string): string[] {
    const value = body[name];
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string")) throw invalid(`Missing (or invalid type) array parameter ${name}`);
    return value;
  },
};

/** OAuth and CSC error codes kept as they are; anything else is an invalid request. */
const WIRE = new Set(["invalid_request", "invalid_token", "insufficient_scope", "access_denied", "invalid_client"]);

/** The CSC `certificates` parameter. */
function certificatesOption(body: Body): "none" | "single" | "chain" {
  const value = body.certificates ?? "single";
  if (value !== "none" && value !== "single" && value !== "chain") throw invalid("Invalid parameter certificates");
  return value;
}

/**
 * The CSC API v2 (Cloud Signature Consortium, "Architectures and protocols for remote signature
 * applications", v2.0.0.2) at `/t/<tenant>/csc/v2/`, for tenants with `signing.enabled`: info
 * without authentication; everything else with a Bearer access token of the tenant's OpenID
 * provider for the resource `<issuer>/csc/v2`, scope `service`, whose subject is the signer; the
 * signature methods also take a `credential` token, whose authorization_details carry the SAD.
 * Credentials are the signer's professional certificates; signatures are authorised explicitly
 * (PIN: the signing password, OTP: a code by SMS or e-mail) for exactly the hashes to sign.
 * Errors are `{error, error_description}` with 400 (invalid_request), 401 (invalid_token) or 403.
 */
export function cscRoutes(services: WebServices) {
  const deps = pkiDeps(services);
  const issuer = (tenant: Tenant) => tenantUrl(services, tenant);

  /** The signer the access token speaks for: JWT of the tenant's provider, for this API, scope `service`. */
  async function signer(request: FastifyRequest, accept: readonly ("service" | "credential")[] = ["service"]): Promise<{ account: Account; clientId: string | null; sadFor: (credentialId: string) => string | undefined }> {
    const tenant = request.tenant!;
    const header = request.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const unauthorized = (description: string) => new TesseraError("invalid_token", description, { status: 401 });
    if (!token) throw unauthorized("An access token is required (Authorization: Bearer)");
    let payload: { sub?: string; scope?: string; client_id?: string; authorization_details?: { type?: string; credentialID?: string; sad?: string }[] };
    try {
      ({ payload } = await jwtVerify(token, createLocalJWKSet({ keys: await publicKeySet(deps, tenant) }), {
        issuer: issuer(tenant),
        audience: cscResource(issuer(tenant)),
        typ: "at+jwt",
        currentDate: new Date(deps.clock.now()),
        clockTolerance: 5,
      }));
    } catch {
      throw unauthorized("The access token is invalid or expired");
    }
    const scopes = (payload.scope ?? "").split(" ");
    if (!accept.some((a) => scopes.includes(a))) throw new TesseraError("insufficient_scope", `The access token lacks the scope ${accept.join(" or ")}`, { status: 403 });
    const account = payload.sub ? await findAccount(deps, tenant, payload.sub) : undefined;
    if (!account || account.state !== "active") throw unauthorized("The access token's subject is not an active signer here");
    // A `credential` token carries the SAD its holder's authorisation made, per credential.
    const details = scopes.includes("credential") ? (payload.authorization_details ?? []).filter((d) => d.type === "credential") : [];
    return { account, clientId: payload.client_id ?? null, sadFor: (credentialId) => details.find((d) => d.credentialID === credentialId)?.sad };
  }

  const body = (request: FastifyRequest): Body => {
    const value = request.body;
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) throw invalid("The request body is a JSON object");
    return value as Body;
  };

  /** What a SAD was given for: signHash's hashes, signDoc's documents' digests. The SAD: the request's, or the `credential` token's. */
  async function spend(request: FastifyRequest, account: Account, credential: Credential, sad: unknown, hashes: string[], hashAlgorithm: ReturnType<typeof hashOf>) {
    checkCanSign(credential);
    return spendAuthorization(deps, request.tenant!, account, credential, sad, hashes, hashAlgorithm);
  }

  return async (app: FastifyInstance) => {
    app.addHook("onRequest", async (request) => {
      if (!request.tenant!.policy.signing.enabled) throw new TesseraError("http.not_found", "remote signing is not offered here", { status: 404 });
    });
    app.setErrorHandler((error: FastifyError | TesseraError, request: FastifyRequest, reply: FastifyReply) => {
      if (error instanceof TesseraError && error.status < 500) {
        return reply.code(error.status).send({ error: WIRE.has(error.code) ? error.code : "invalid_request", error_description: error.message });
      }
      // Fastify's own (bad JSON, a body too large): the client's fault, said in the API's shape.
      const status = (error as FastifyError).statusCode;
      if (status !== undefined && status < 500) return reply.code(status).send({ error: "invalid_request", error_description: error.message });
      return renderError(request, reply, error);
    });

    app.post("/info", async (request) => {
      const tenant = request.tenant!;
      return {
        specs: "2.0.0.2",
        name: tenant.displayName,
        logo: `${services.publicUrl.current}/assets/favicon.svg`,
        region: tenant.policy.pki.organization?.country ?? "EU",
        lang: request.locale,
        description: `Remote signing with the professional certificates of ${tenant.displayName}`,
        authType: ["oauth2code"],
        oauth2: issuer(tenant),
        oauth2Issuer: issuer(tenant),
        methods: ["credentials/list", "credentials/info", "credentials/authorize", "credentials/sendOTP", "signatures/signHash", "signatures/signDoc", "signatures/timestamp"],
        signAlgorithms: {
          algos: ["1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13", "1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"],
        },
        signature_formats: { formats: ["C", "P"], envelope_properties: [["Detached"], ["Certification"]] },
        conformance_levels: ["Ades-B-B", "Ades-B-T"],
      };
    });

    app.post("/credentials/list", async (request) => {
      const tenant = request.tenant!;
      const b = body(request);
      const { account } = await signer(request);
      const onlyValid = param.boolean(b, "onlyValid", false);
      const credentials = (await credentialsOf(deps, tenant, account)).filter((c) => !onlyValid || c.status === "valid");
      const withInfo = param.boolean(b, "credentialInfo", false);
      const options = { certificates: certificatesOption(b), certInfo: param.boolean(b, "certInfo", false), authInfo: param.boolean(b, "authInfo", false), otpTo: otpDestination(account), lang: request.locale };
      return {
        credentialIDs: credentials.map((c) => c.id),
        ...(withInfo ? { credentialInfos: credentials.map((c) => ({ credentialID: c.id, ...credentialInfo(tenant, c, options) })) } : {}),
        ...(onlyValid ? { onlyValid: true } : {}),
      };
    });

    app.post("/credentials/info", async (request) => {
      const tenant = request.tenant!;
      const b = body(request);
      const { account } = await signer(request);
      const credential = await credentialOf(deps, tenant, account, param.string(b, "credentialID"));
      return credentialInfo(tenant, credential, { certificates: certificatesOption(b), certInfo: param.boolean(b, "certInfo", false), authInfo: param.boolean(b, "authInfo", false), otpTo: otpDestination(account), lang: request.locale });
    });

    app.post("/credentials/sendOTP", async (request, reply) => {
      const b = body(request);
      const { account } = await signer(request);
      const credential = await credentialOf(deps, request.tenant!, account, param.string(b, "credentialID"));
      await sendSigningCode(deps, request.tenant!, account, credential, request.locale);
      return reply.code(204).send();
    });

    app.post("/credentials/authorize", async (request) => {
      const tenant = request.tenant!;
      const b = body(request);
      const { account, clientId } = await signer(request);
      const credential = await credentialOf(deps, tenant, account, param.string(b, "credentialID"));
      // v2 gives the factors as authData [{id, value}]; v1 clients as PIN and OTP.
      const authData = Array.isArray(b.authData) ? (b.authData as { id?: unknown; value?: unknown }[]) : [];
      const factor = (id: string) => {
        const given = authData.find((d) => d.id === id)?.value ?? b[id];
        if (typeof given !== "string" || given === "") throw invalid(`Missing (or invalid type) string parameter ${id}`);
        return given;
      };
      const { sad, expiresIn } = await authorizeCredential(
        { ...deps, attempts: services.attempts },
        tenant,
        account,
        credential,
        {
          pin: factor("PIN"),
          otp: factor("OTP"),
          hashes: param.strings(b, "hashes"),
          hashAlgorithm: hashOf(b.hashAlgorithmOID ?? "2.16.840.1.101.3.4.2.1"),
          numSignatures: param.integer(b, "numSignatures"),
          clientId,
          ip: request.ip,
        },
        actorOf(request),
      );
      return { SAD: sad, expiresIn };
    });

    // Tessera's extension (not in the CSC specification): the virtual card's C_Login checks the
    // signing password before any signature, as a smart card checks its PIN.
    app.post("/credentials/checkPIN", async (request, reply) => {
      const tenant = request.tenant!;
      const b = body(request);
      const { account } = await signer(request);
      const credential = await credentialOf(deps, tenant, account, param.string(b, "credentialID"));
      await checkSigningPassword({ ...deps, attempts: services.attempts }, tenant, account, credential, param.string(b, "PIN"), request.ip, actorOf(request));
      return reply.code(204).send();
    });

    app.post("/signatures/signHash", async (request) => {
      const tenant = request.tenant!;
      const b = body(request);
      const { account, clientId, sadFor } = await signer(request, ["service", "credential"]);
      const credential = await credentialOf(deps, tenant, account, param.string(b, "credentialID"));
      const mechanism = mechanismOf(credential.key.algorithm as KeyAlgorithm, b);
      const hashes = param.strings(b, "hashes");
      const { share, activation } = await spend(request, account, credential, b.SAD ?? sadFor(credential.id), hashes, mechanism.hash);
      const signatures = await signHashes(deps, tenant, credential, share, hashes, mechanism);
      await recordAuditBy(deps.repos, deps.clock, actorOf(request), {
        tenantId: tenant.id,
        type: "signature.created",
        subject: account.id,
        data: { credential: credential.id, organization: credential.organization.name, activation, signatures: hashes.length, method: "signHash", client: clientId },
      });
      return { signatures };
    });

    app.post("/signatures/signDoc", { bodyLimit: 40 * 1024 * 1024 }, async (request) => {
      const tenant = request.tenant!;
      const b = body(request);
      const { account, clientId, sadFor } = await signer(request, ["service", "credential"]);
      const credential = await credentialOf(deps, tenant, account, param.string(b, "credentialID"));
      const documents = b.documents;
      if (!Array.isArray(documents) || documents.length === 0) throw invalid("Missing (or invalid type) array parameter documents");
      const parsed = (documents as Body[]).map((d) => {
        if (typeof d !== "object" || d === null) throw invalid("Invalid parameter documents");
        const format = param.string(d, "signature_format");
        if (format !== "P" && format !== "C") throw invalid("Invalid parameter signature_format: P (PAdES) or C (CAdES)");
        const conformance = param.optionalString(d, "conformance_level") ?? "Ades-B-B";
        const level: Level | undefined = ({ "Ades-B-B": "B-B", "Ades-B-T": "B-T", "AdES-B-B": "B-B", "AdES-B-T": "B-T" } as const)[conformance];
        if (!level) throw invalid("Invalid parameter conformance_level: Ades-B-B or Ades-B-T");
        const envelope = param.optionalString(d, "signed_envelope_property") ?? (format === "P" ? "Certification" : "Detached");
        if ((format === "C" && envelope !== "Detached") || (format === "P" && envelope !== "Certification" && envelope !== "Revision")) throw invalid("Invalid parameter signed_envelope_property");
        const content = Buffer.from(param.string(d, "document"), "base64");
        return { format, level, content, mechanism: mechanismOf(credential.key.algorithm as KeyAlgorithm, { ...d, hashAlgorithmOID: d.hashAlgorithmOID ?? b.hashAlgorithmOID }) };
      });
      // The SAD authorised these documents by their digests (SHA-256 unless the request names another).
      const hashAlgorithm = b.hashAlgorithmOID === undefined ? "SHA-256" : hashOf(b.hashAlgorithmOID);
      const { share, activation } = await spend(request, account, credential, b.SAD ?? sadFor(credential.id), parsed.map((d) => digest(hashAlgorithm, d.content).toString("base64")), hashAlgorithm);
      const DocumentWithSignature: string[] = [];
      const SignatureObject: string[] = [];
      for (const d of parsed) {
        if (d.format === "P") DocumentWithSignature.push((await signPdf(deps, tenant, credential, share, d.content, { level: d.level, mechanism: d.mechanism })).toString("base64"));
        else SignatureObject.push((await signCades(deps, tenant, credential, share, d.content, { level: d.level, mechanism: d.mechanism })).toString("base64"));
      }
      await recordAuditBy(deps.repos, deps.clock, actorOf(request), {
        tenantId: tenant.id,
        type: "signature.created",
        subject: account.id,
        data: { credential: credential.id, organization: credential.organization.name, activation, signatures: parsed.length, method: "signDoc", formats: parsed.map((d) => `${d.format}-${d.level}`), client: clientId },
      });
      return { ...(DocumentWithSignature.length ? { DocumentWithSignature } : {}), ...(SignatureObject.length ? { SignatureObject } : {}) };
    });

    app.post("/signatures/timestamp", async (request) => {
      const b = body(request);
      await signer(request);
      const hash = hashOf(param.string(b, "hashAlgorithmOID"));
      const imprint = Buffer.from(param.string(b, "hash"), "base64");
      if (imprint.length !== digest(hash, Buffer.alloc(0)).length) throw invalid("Invalid parameter hash: not a digest of hashAlgorithmOID");
      const nonce = param.optionalString(b, "nonce");
      if (nonce !== undefined && !/^[0-9a-fA-F]{2,64}$/.test(nonce)) throw invalid("Invalid parameter nonce: hexadecimal");
      return { timestamp: (await timestampToken(deps, request.tenant!, imprint, hash, nonce ? Buffer.from(nonce, "hex") : undefined)).toString("base64") };
    });
  };
}
