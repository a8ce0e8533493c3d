import { recordAuditBy } from "../audit/service.ts";
import type { Account } from "../identity/accounts.ts";
import { type AttemptStore, attemptFailed, attemptSucceeded, attemptWithdrawn, beginAttempt } from "../identity/brute-force.ts";
import type { Actor } from "../identity/deps.ts";
import { maskContact } from "../identity/identifiers.ts";
import { issueOtp, type OtpChannel, verifyOtp } from "../identity/otp.ts";
import { verifyPassword } from "../identity/password/service.ts";
import { digestLength, type HashAlgorithm } from "../pki/algorithms.ts";
import type { PkiDeps } from "../pki/deps.ts";
import { passwordShare, protectionOf } from "../pki/sole-control.ts";
import { type FieldIssue, TesseraError } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import { type Translate, translator } from "../shared/i18n/translate.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { checkCanSign, type Credential } from "./credentials.ts";

const invalid = (description: string, status = 400) => new TesseraError("invalid_request", description, { status });

/**
 * An authorisation's refusal as a form says it (the signing page, the `credential` consent page):
 * the CSC API's words for a wrong password or code become the field's message in the page's language.
 */
export function refusalIssue(t: Translate, error: TesseraError): FieldIssue {
  if (error.message === "Invalid PIN") return { field: "password", code: "signing.wrong_password", message: t("signing.wrong_password") };
  if (error.message.startsWith("Invalid OTP")) return { field: "code", code: "signing.wrong_code", message: t("signing.wrong_code") };
  return { field: "password", code: error.code, message: error.message };
}

/** The one-time codes that authorise a credential's signatures go under this purpose. */
const otpPurpose = (credential: Credential) => `csc:${credential.id}`;

/** Where a holder's signing codes go: where their sign-in codes go, else the verified mobile, else the e-mail. */
function otpChannel(account: Account): { channel: OtpChannel; to: string } | undefined {
  const sms = account.phone && account.phoneVerifiedAt !== null ? { channel: "sms" as const, to: account.phone } : undefined;
  const email = account.email && account.emailVerifiedAt !== null ? { channel: "email" as const, to: account.email } : undefined;
  if (account.preferredFactor === "email" && email) return email;
  return sms ?? email;
}

/** The masked address a credential's codes go to, for credentials/info. */
export const otpDestination = (account: Account) => {
  const to = otpChannel(account)?.to;
  return to ? maskContact(to) : null;
};

/** credentials/sendOTP: a one-time code for authorising this credential's signatures. */
export async function sendSigningCode(deps: PkiDeps, tenant: Tenant, account: Account, credential: Credential, locale: Locale): Promise<{ to: string }> {
  checkCanSign(credential);
  const where = otpChannel(account);
  if (!where) throw invalid("The signer has no verified mobile or e-mail to send a code to");
  const sent = await issueOtp(deps, tenant, { purpose: otpPurpose(credential), channel: where.channel, destination: where.to, locale: account.locale ?? locale, perHour: tenant.policy.signing.codesPerHour });
  if (!sent.ok) throw new TesseraError("invalid_request", translator(locale)(sent.reason, sent.params), { status: 429, params: sent.params });
  return { to: maskContact(where.to) };
}

export interface AuthorizationRequest {
  /** The signing password (CSC "PIN"). */
  pin: string;
  /** The one-time code sent by sendSigningCode (CSC "OTP"). */
  otp: string;
  /** The hashes to be signed, base64; for signDoc, the documents' digests. */
  hashes: string[];
  hashAlgorithm: HashAlgorithm;
  numSignatures: number;
  clientId: string | null;
  ip: string | null;
}

/**
 * credentials/authorize (SCAL2): the signer's password and a fresh one-time code authorise this
 * credential to sign exactly `hashes`, each once, within the tenant's `sadSeconds`. Wrong
 * passwords and codes count like sign-in failures (delays, then a lock). The SAD returned is
 * sealed under the master key and carries the holder's password share: the server cannot unlock
 * the key without it, and it unlocks nothing but these hashes (the activation row says which are
 * left).
 */
export async function authorizeCredential(
  deps: PkiDeps & { attempts: AttemptStore },
  tenant: Tenant,
  account: Account,
  credential: Credential,
  request: AuthorizationRequest,
  by: Actor,
): Promise<{ sad: string; expiresIn: number }> {
  checkCanSign(credential);
  const policy = tenant.policy.signing;
  if (!Number.isInteger(request.numSignatures) || request.numSignatures < 1 || request.numSignatures > policy.maxSignatures) {
    throw invalid(`Invalid parameter numSignatures: 1 to ${policy.maxSignatures}`);
  }
  if (request.hashes.length === 0 || request.hashes.length > request.numSignatures) throw invalid("Invalid parameter hashes: one to numSignatures of them");
  for (const hash of request.hashes) {
    if (Buffer.from(hash, "base64").length !== digestLength(request.hashAlgorithm) || Buffer.from(hash, "base64").toString("base64") !== hash) {
      throw invalid(`Invalid parameter hashes: each is a ${request.hashAlgorithm} digest in base64`);
    }
  }
  if (new Set(request.hashes).size !== request.hashes.length) throw invalid("Invalid parameter hashes: a hash is given twice");

  const attempt = await signingAttempt(deps, tenant, account, credential, request.ip, by);
  if (!(await verifyPassword(deps, tenant, account, request.pin)).ok) throw await attempt.fail("Invalid PIN");
  const code = await verifyOtp(deps, tenant, otpPurpose(credential), request.otp);
  if (!code.ok) throw await attempt.fail(code.reason === "otp.invalid" ? "Invalid OTP" : `Invalid OTP: ${code.reason.replace("otp.", "")}`);
  await attempt.succeeded();

  const protection = protectionOf(credential.key.protection);
  const share = protection ? await passwordShare(request.pin, protection) : undefined;
  const now = deps.clock.now();
  const id = newId();
  await deps.repos.signing.insertActivation({
    tenant_id: tenant.id,
    id,
    account_id: account.id,
    credential_id: credential.id,
    hash_algorithm: request.hashAlgorithm,
    hashes: JSON.stringify(request.hashes),
    remaining: request.hashes.length,
    client_id: request.clientId,
    created_at: now,
    expires_at: now + policy.sadSeconds * 1000,
  });
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "signature.authorized",
    subject: account.id,
    data: { credential: credential.id, activation: id, signatures: request.hashes.length, hashAlgorithm: request.hashAlgorithm, client: request.clientId },
  });
  const sad = deps.secrets.seal(JSON.stringify({ activation: id, ...(share ? { share: share.toString("base64") } : {}) }), sadContext(tenant, credential));
  return { sad, expiresIn: policy.sadSeconds };
}

/**
 * An attempt to prove the signer's factors: refused while the account's signing is locked; a
 * failure counts like a sign-in failure (delays, then a lock) and is audited.
 */
async function signingAttempt(deps: PkiDeps & { attempts: AttemptStore }, tenant: Tenant, account: Account, credential: Credential, ip: string | null, by: Actor) {
  const who = { tenantId: tenant.id, identifier: `signing:${account.id}`, ip: ip ?? "unknown" };
  const gate = await beginAttempt(deps.attempts, tenant.policy.lockout, who, deps.clock.now());
  if (!gate.allowed) throw new TesseraError("access_denied", translator(account.locale ?? tenant.defaultLocale)(gate.reason, gate.params), { status: 403, params: gate.params });
  return {
    async fail(description: string) {
      await attemptFailed(deps.attempts, tenant.policy.lockout, who, deps.clock.now());
      await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "signature.refused", subject: account.id, data: { credential: credential.id, reason: description } });
      return invalid(description);
    },
    succeeded: () => attemptSucceeded(deps.attempts, who, deps.clock.now()),
    withdrawn: () => attemptWithdrawn(deps.attempts, who, deps.clock.now()),
  };
}

/**
 * credentials/checkPIN (Tessera's extension, for the virtual card's C_Login): whether `pin` is the
 * signing password of the credential's holder. It authorises nothing; a wrong one counts like
 * the wrong PIN of an authorisation, and a right one does not clear the count (the wrong codes
 * counted there stand: only a complete authorisation clears it).
 */
export async function checkSigningPassword(deps: PkiDeps & { attempts: AttemptStore }, tenant: Tenant, account: Account, credential: Credential, pin: string, ip: string | null, by: Actor): Promise<void> {
  checkCanSign(credential);
  const attempt = await signingAttempt(deps, tenant, account, credential, ip, by);
  if (!(await verifyPassword(deps, tenant, account, pin)).ok) throw await attempt.fail("Invalid PIN");
  await attempt.withdrawn();
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "signature.password_checked", subject: account.id, data: { credential: credential.id } });
}

const sadContext = (tenant: Tenant, credential: Credential) => `csc-sad:${tenant.id}:${credential.id}`;

/**
 * Spends a SAD on `hashes`: each must be one it authorised and not yet signed, before it expires.
 * Returns the holder's share that unlocks the key (none for a key on a token). Spent before the
 * signature is made: a signature that then fails is not made again with the same SAD.
 */
export async function spendAuthorization(deps: PkiDeps, tenant: Tenant, account: Account, credential: Credential, sad: unknown, hashes: string[], hashAlgorithm: HashAlgorithm): Promise<{ share?: Buffer; activation: string }> {
  let opened: { activation: string; share?: string };
  try {
    if (typeof sad !== "string") throw new Error("no SAD");
    opened = JSON.parse(deps.secrets.open(sad, sadContext(tenant, credential))) as { activation: string; share?: string };
  } catch {
    throw invalid("Invalid parameter SAD");
  }
  // One spend at a time per SAD (a client may send its hashes in parallel): the checks and the
  // write under the SAD's lock, on every node.
  const row = await deps.repos.atomically(async (repos) => {
    await repos.lock(`sad:${tenant.id}:${opened.activation}`);
    const row = await repos.signing.activation(tenant.id, opened.activation);
    if (!row || row.account_id !== account.id || row.credential_id !== credential.id) throw invalid("Invalid parameter SAD");
    if (row.expires_at <= deps.clock.now()) throw invalid("SAD expired");
    if (row.hash_algorithm !== hashAlgorithm) throw invalid(`Invalid parameter hashAlgorithmOID: the SAD authorised ${row.hash_algorithm}`);
    const left = JSON.parse(row.hashes) as string[];
    if (hashes.length === 0 || new Set(hashes).size !== hashes.length) throw invalid("Invalid parameter hashes");
    if (row.remaining === 0) throw invalid("SAD used up: every signature it authorised is made");
    if (hashes.length > row.remaining) throw invalid(`The SAD authorises ${row.remaining} more signature(s), not ${hashes.length}`);
    const unknown = hashes.filter((h) => !left.includes(h));
    if (unknown.length > 0) throw invalid("Invalid parameter hashes: not authorised by this SAD (or signed already)");
    const after = left.filter((h) => !hashes.includes(h));
    if (!(await repos.signing.spend(tenant.id, row.id, row.remaining, { hashes: JSON.stringify(after), remaining: row.remaining - hashes.length }))) {
      throw invalid("The SAD was used meanwhile: try again", 409);
    }
    return row;
  });
  return { ...(opened.share ? { share: Buffer.from(opened.share, "base64") } : {}), activation: row.id };
}
