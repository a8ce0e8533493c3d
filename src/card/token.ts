import { createHash, type Hash } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { digest, ecdsaRaw, type HashAlgorithm, hashByOid, owned } from "../pki/algorithms.ts";
import { type CertifiedKey, certifiedKey } from "./certificates.ts";
import { type CscClient, CscRefusal, type RemoteCredential } from "./csc-client.ts";
import { CK_CERTIFICATE_CATEGORY, CKA, CKC_X_509, CKF, CKK, CKM, CKO, CKR, CKS, CKU, Pkcs11Error } from "./p11kit/pkcs11.ts";
import { nativeBytes, type Value as AttributeValue } from "./p11kit/wire.ts";
import type { Prompter } from "./prompt.ts";
import { signDigest } from "./remote-key.ts";
import { CardError } from "./errors.ts";

export interface TokenObject {
  handle: number;
  /** Seen only by a logged-in user (CKA_PRIVATE). */
  private: boolean;
  attributes: Map<number, AttributeValue>;
  /** Attributes that exist but are never revealed (the private key's parts). */
  sensitive: Set<number>;
  /** The credential whose key this is (private keys only). */
  credential?: { id: string; key: CertifiedKey };
}

/** CK_SLOT_INFO, CK_TOKEN_INFO and CK_MECHANISM_INFO as the card fills them. */
export interface SlotInfo {
  description: string;
  manufacturer: string;
  flags: number;
}
export interface TokenInfo {
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  flags: number;
  maxPinLen: number;
  minPinLen: number;
}
export interface MechanismInfo {
  minKeySize: number;
  maxKeySize: number;
  flags: number;
}

/** The one slot the card has; the token in it holds every credential of the signed-in holder. */
export const SLOT_ID = 1;

const HASHES: Record<number, HashAlgorithm> = {
  [CKM.SHA256_RSA_PKCS]: "SHA-256",
  [CKM.SHA384_RSA_PKCS]: "SHA-384",
  [CKM.SHA512_RSA_PKCS]: "SHA-512",
  [CKM.ECDSA_SHA256]: "SHA-256",
  [CKM.ECDSA_SHA384]: "SHA-384",
  [CKM.ECDSA_SHA512]: "SHA-512",
};
const RSA_MECHANISMS = [CKM.RSA_PKCS, CKM.SHA256_RSA_PKCS, CKM.SHA384_RSA_PKCS, CKM.SHA512_RSA_PKCS];
const EC_MECHANISMS = [CKM.ECDSA, CKM.ECDSA_SHA256, CKM.ECDSA_SHA384, CKM.ECDSA_SHA512];
/** The private key attributes that exist and stay secret (CKA_VALUE, CKA_PRIVATE_EXPONENT … CKA_COEFFICIENT). */
const SECRET_PARTS = [CKA.VALUE, 0x123, 0x124, 0x125, 0x126, 0x127, 0x128];
/** How long the credentials read from the server stand before they are read again. */
const CREDENTIALS_TTL_MS = 60_000;
/** After the server could not be reached, how long the token stays out before it is tried again. */
const RETRY_AFTER_MS = 15_000;

interface SignOperation {
  mechanism: number;
  key: TokenObject;
  /** Multi-part signing (C_SignUpdate): the data hashed as it comes. */
  hashing?: Hash;
}

interface Session {
  flags: number;
  found?: { handles: number[]; next: number };
  sign?: SignOperation;
}

/** The signature's size: the modulus for RSA, r‖s for ECDSA. */
const signatureLength = (key: CertifiedKey) => (key.key.type === "RSA" ? key.key.modulus.length : key.key.size * 2);

/** A failure of the server or the network as the application sees it. */
function asPkcs11(error: unknown, log: (line: string) => void): Pkcs11Error {
  if (error instanceof Pkcs11Error) return error;
  if (error instanceof CscRefusal) {
    log(`virtual card: the server refused: ${error.description || error.error}`);
    if (error.description === "Invalid PIN") return new Pkcs11Error(CKR.PIN_INCORRECT, error.description);
    if (error.status === 403 && error.error === "access_denied") return new Pkcs11Error(CKR.PIN_LOCKED, error.description);
    if (error.description.startsWith("Invalid OTP")) return new Pkcs11Error(CKR.FUNCTION_CANCELED, error.description);
    return new Pkcs11Error(CKR.FUNCTION_FAILED, error.description);
  }
  if (error instanceof CardError) {
    log(`virtual card: ${error.message}`);
    return new Pkcs11Error(error.reason === "refused" ? CKR.FUNCTION_CANCELED : CKR.DEVICE_ERROR, error.message);
  }
  log(`virtual card: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new Pkcs11Error(CKR.GENERAL_ERROR, "unexpected error");
}

/**
 * The virtual card as one PKCS#11 application sees it (one p11-kit connection): a slot whose token
 * holds, per credential, the certificate, its public key and the private key (seen after login),
 * plus the issuing CAs' certificates. C_Login checks the signing password with the server; each
 * signature asks for a one-time code and is authorised and made by the CSC API. The token is
 * read-only: nothing is created, changed or destroyed through it.
 */
export class VirtualCardToken {
  private objects: TokenObject[] = [];
  private loadedAt = 0;
  private failedAt = 0;
  private present = false;
  private closed = false;
  /** Handles are given once per object (credential and kind) for the connection's life: an application's handles never change meaning. */
  private readonly handles = new Map<string, number>();
  private readonly sessions = new Map<number, Session>();
  private nextSession = 1;
  private pin: string | undefined;

  constructor(
    private readonly csc: CscClient,
    private readonly prompter: Prompter,
    private readonly holder: { sub: string; name: string; tenant: string },
    private readonly log: (line: string) => void,
    /** One signature at a time for the whole daemon: one code is pending, asked and used at once. */
    private readonly oneAtATime: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
  ) {}

  /** The application went away (C_Finalize, or its connection closed): nothing more is done for it. */
  close(): void {
    this.closed = true;
    this.sessions.clear();
    this.pin = undefined;
  }

  private handleFor(key: string): number {
    let handle = this.handles.get(key);
    if (handle === undefined) this.handles.set(key, (handle = this.handles.size + 1));
    return handle;
  }

  /**
   * The credentials, read again once a minute; a server out of reach is a token taken out, and
   * is not asked again for a while (each call would wait for the network's timeout).
   */
  async refresh(force = false): Promise<void> {
    if (!force && this.present && Date.now() - this.loadedAt < CREDENTIALS_TTL_MS) return;
    if (!this.present && Date.now() - this.failedAt < RETRY_AFTER_MS) return;
    try {
      this.objects = objectsOf(await this.csc.credentials(), (key) => this.handleFor(key));
      this.present = true;
      this.loadedAt = Date.now();
    } catch (error) {
      asPkcs11(error, this.log);
      this.present = false;
      this.failedAt = Date.now();
      this.objects = [];
      this.sessions.clear();
      this.pin = undefined;
    }
  }

  slotInfo(slot: number): SlotInfo {
    this.checkSlot(slot);
    return { description: "Tessera virtual card", manufacturer: "Tessera", flags: CKF.REMOVABLE_DEVICE | (this.present ? CKF.TOKEN_PRESENT : 0) };
  }

  slotIds(tokenPresent: boolean): number[] {
    return tokenPresent && !this.present ? [] : [SLOT_ID];
  }

  tokenInfo(slot: number): TokenInfo {
    this.checkToken(slot);
    return {
      label: `Tessera ${this.holder.name || this.holder.tenant}`,
      manufacturer: "Tessera",
      model: "Virtual card",
      serial: createHash("sha256").update(`${this.holder.tenant}:${this.holder.sub}`).digest("hex").slice(0, 16),
      flags: CKF.TOKEN_INITIALIZED | CKF.USER_PIN_INITIALIZED | CKF.LOGIN_REQUIRED | CKF.WRITE_PROTECTED,
      maxPinLen: 256,
      minPinLen: 1,
    };
  }

  mechanisms(slot: number): number[] {
    this.checkToken(slot);
    const types = new Set(this.privateKeys().map((k) => k.credential!.key.key.type));
    return [...(types.has("RSA") ? RSA_MECHANISMS : []), ...(types.has("EC") ? EC_MECHANISMS : [])];
  }

  mechanismInfo(slot: number, mechanism: number): MechanismInfo {
    if (!this.mechanisms(slot).includes(mechanism)) throw new Pkcs11Error(CKR.MECHANISM_INVALID, "mechanism not offered");
    const rsa = RSA_MECHANISMS.includes(mechanism as (typeof RSA_MECHANISMS)[number]);
    return rsa ? { minKeySize: 2048, maxKeySize: 4096, flags: CKF.SIGN } : { minKeySize: 256, maxKeySize: 384, flags: CKF.SIGN | CKF.EC_F_P | CKF.EC_NAMEDCURVE | CKF.EC_UNCOMPRESS };
  }

  openSession(slot: number, flags: number): number {
    this.checkToken(slot);
    if ((flags & CKF.SERIAL_SESSION) === 0) throw new Pkcs11Error(CKR.SESSION_PARALLEL_NOT_SUPPORTED, "serial sessions only");
    // A read-write session is allowed (NSS asks for one), but nothing can be written in it.
    const handle = this.nextSession++;
    this.sessions.set(handle, { flags });
    return handle;
  }

  closeSession(handle: number): void {
    this.session(handle);
    this.sessions.delete(handle);
    if (this.sessions.size === 0) this.pin = undefined;
  }

  closeAllSessions(slot: number): void {
    this.checkSlot(slot);
    this.sessions.clear();
    this.pin = undefined;
  }

  /** Logging out ends what needed the login: signatures begun, searches that saw private objects. */
  private loggedOut(): void {
    this.pin = undefined;
    for (const session of this.sessions.values()) {
      delete session.sign;
      delete session.found;
    }
  }

  sessionInfo(handle: number): { slot: number; state: number; flags: number } {
    const session = this.session(handle);
    const rw = (session.flags & CKF.RW_SESSION) !== 0;
    const state = this.pin === undefined ? (rw ? 2 : CKS.RO_PUBLIC_SESSION) : rw ? 3 : CKS.RO_USER_FUNCTIONS;
    return { slot: SLOT_ID, state, flags: session.flags };
  }

  /** C_Login: the signing password, checked by the server (counted like a sign-in, locks alike). */
  async login(handle: number, userType: number, pin: string): Promise<void> {
    this.session(handle);
    if (userType === CKU.CONTEXT_SPECIFIC) throw new Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED, "no key needs a context-specific login");
    if (userType !== CKU.USER) throw new Pkcs11Error(CKR.USER_TYPE_INVALID, "the card has no security officer");
    if (this.pin !== undefined) throw new Pkcs11Error(CKR.USER_ALREADY_LOGGED_IN, "already logged in");
    if (pin.length === 0) throw new Pkcs11Error(CKR.PIN_INCORRECT, "empty password");
    const key = this.privateKeys()[0];
    if (!key) throw new Pkcs11Error(CKR.TOKEN_NOT_PRESENT, "no credential to log in to");
    try {
      await this.csc.checkPin(key.credential!.id, pin);
    } catch (error) {
      throw asPkcs11(error, this.log);
    }
    this.pin = pin;
  }

  logout(handle: number): void {
    this.session(handle);
    if (this.pin === undefined) throw new Pkcs11Error(CKR.USER_NOT_LOGGED_IN, "not logged in");
    this.loggedOut();
  }

  findObjectsInit(handle: number, template: Map<number, AttributeValue>): void {
    const session = this.session(handle);
    if (session.found) throw new Pkcs11Error(CKR.OPERATION_ACTIVE, "a search is active");
    const matches = this.visible().filter((o) => [...template].every(([type, value]) => o.attributes.has(type) && sameValue(o.attributes.get(type)!, value)));
    session.found = { handles: matches.map((o) => o.handle), next: 0 };
  }

  findObjects(handle: number, max: number): number[] {
    const found = this.session(handle).found;
    if (!found) throw new Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED, "no search");
    const handles = found.handles.slice(found.next, found.next + max);
    found.next += handles.length;
    return handles;
  }

  findObjectsFinal(handle: number): void {
    const session = this.session(handle);
    if (!session.found) throw new Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED, "no search");
    delete session.found;
  }

  /** The object's attributes asked for: a value, "sensitive", or "no such attribute" for each. */
  attributes(handle: number, object: number, types: number[]): { type: number; value: AttributeValue | "sensitive" | "invalid" }[] {
    this.session(handle);
    const found = this.object(object);
    return types.map((type) => ({ type, value: found.sensitive.has(type) ? "sensitive" : found.attributes.has(type) ? found.attributes.get(type)! : "invalid" }));
  }

  signInit(handle: number, mechanism: number, keyHandle: number): void {
    const session = this.session(handle);
    if (session.sign) throw new Pkcs11Error(CKR.OPERATION_ACTIVE, "a signature is in progress");
    const key = this.objects.find((o) => o.handle === keyHandle);
    if (!key || (key.private && this.pin === undefined)) throw new Pkcs11Error(CKR.KEY_HANDLE_INVALID, "no such key");
    if (!key.credential) throw new Pkcs11Error(CKR.KEY_FUNCTION_NOT_PERMITTED, "not a signing key");
    const allowed = key.credential.key.key.type === "RSA" ? RSA_MECHANISMS : EC_MECHANISMS;
    if (!allowed.includes(mechanism as never)) throw new Pkcs11Error(CKR.KEY_TYPE_INCONSISTENT, "the key does not sign with this mechanism");
    if (this.pin === undefined) throw new Pkcs11Error(CKR.USER_NOT_LOGGED_IN, "log in first");
    session.sign = { mechanism, key };
  }

  /** The length a signature will have (a length query, or an output buffer too small). */
  signatureLength(handle: number): number {
    const operation = this.session(handle).sign;
    if (!operation) throw new Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED, "C_SignInit first");
    return signatureLength(operation.key.credential!.key);
  }

  signUpdate(handle: number, part: Buffer): void {
    const operation = this.session(handle).sign;
    if (!operation) throw new Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED, "C_SignInit first");
    const hash = HASHES[operation.mechanism];
    if (hash === undefined) {
      delete this.session(handle).sign;
      throw new Pkcs11Error(CKR.FUNCTION_NOT_SUPPORTED, "this mechanism signs in one part");
    }
    (operation.hashing ??= createHash(hash.replace("-", "").toLowerCase())).update(part);
  }

  /** C_Sign (the data) or C_SignFinal (the parts given): the signature, and the operation ends. */
  async sign(handle: number, data?: Buffer): Promise<Buffer> {
    const session = this.session(handle);
    const operation = session.sign;
    if (!operation) throw new Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED, "C_SignInit first");
    delete session.sign;
    const pin = this.pin;
    if (pin === undefined) throw new Pkcs11Error(CKR.USER_NOT_LOGGED_IN, "log in first");
    const { key, id } = operation.key.credential!;
    const { hash, value } = operation.hashing ? { hash: HASHES[operation.mechanism]!, value: operation.hashing.digest() } : digestToSign(operation.mechanism, data ?? Buffer.alloc(0));
    try {
      const signature = await this.oneAtATime(() =>
        signDigest(this.csc, this.prompter, { credentialId: id, label: key.label, keyType: key.key.type, hash, digest: value, pin, stillWanted: () => !this.closed }),
      );
      return key.key.type === "EC" ? ecdsaRaw(signature, key.key.size) : signature;
    } catch (error) {
      throw asPkcs11(error, this.log);
    }
  }

  private visible(): TokenObject[] {
    return this.objects.filter((o) => !o.private || this.pin !== undefined);
  }

  private privateKeys(): TokenObject[] {
    return this.objects.filter((o) => o.credential !== undefined);
  }

  private object(handle: number): TokenObject {
    const found = this.visible().find((o) => o.handle === handle);
    if (!found) throw new Pkcs11Error(CKR.OBJECT_HANDLE_INVALID, "no such object");
    return found;
  }

  private session(handle: number): Session {
    const session = this.sessions.get(handle);
    if (!session) throw new Pkcs11Error(CKR.SESSION_HANDLE_INVALID, "no such session");
    return session;
  }

  private checkSlot(slot: number) {
    if (slot !== SLOT_ID) throw new Pkcs11Error(CKR.SLOT_ID_INVALID, "no such slot");
  }

  private checkToken(slot: number) {
    this.checkSlot(slot);
    if (!this.present) throw new Pkcs11Error(CKR.TOKEN_NOT_PRESENT, "the server is out of reach or the sign-in has ended");
  }
}

/** Values compare as the application's memory would hold them (a CK_BBOOL may come as one byte). */
const sameValue = (a: AttributeValue, b: AttributeValue) => nativeBytes(a).equals(nativeBytes(b));

/**
 * What is signed for a mechanism: the hash functions of the "SHA…" mechanisms run here; CKM_ECDSA
 * gets the digest itself (its length says which); CKM_RSA_PKCS gets a DigestInfo (PKCS#1 v1.5
 * §9.2), whose algorithm and digest the CSC API's signHash takes apart. Anything else cannot be
 * signed by a remote signHash and is refused.
 */
function digestToSign(mechanism: number, data: Buffer): { hash: HashAlgorithm; value: Buffer } {
  const hash = HASHES[mechanism];
  if (hash) return { hash, value: digest(hash, data) };
  if (mechanism === CKM.ECDSA) {
    const byLength: Record<number, HashAlgorithm> = { 32: "SHA-256", 48: "SHA-384", 64: "SHA-512" };
    const named = byLength[data.length];
    if (!named) throw new Pkcs11Error(CKR.DATA_LEN_RANGE, "CKM_ECDSA signs a SHA-256, SHA-384 or SHA-512 digest");
    return { hash: named, value: data };
  }
  const info = digestInfoOf(data);
  if (!info) throw new Pkcs11Error(CKR.DATA_INVALID, "CKM_RSA_PKCS signs a DigestInfo of a SHA-256, SHA-384 or SHA-512 digest");
  return info;
}

function digestInfoOf(data: Buffer): { hash: HashAlgorithm; value: Buffer } | undefined {
  const parsed = asn1js.fromBER(owned(data));
  if (parsed.offset !== data.length) return undefined;
  try {
    const sequence = parsed.result as asn1js.Sequence;
    const [algorithm, octets] = sequence.valueBlock.value;
    const hash = hashByOid(new pkijs.AlgorithmIdentifier({ schema: algorithm }).algorithmId);
    const value = Buffer.from((octets as asn1js.OctetString).valueBlock.valueHexView);
    if (!hash || hash === "SHA-1" || digest(hash, Buffer.alloc(0)).length !== value.length) return undefined;
    return { hash, value };
  } catch {
    return undefined;
  }
}

/** The token's objects: per credential its certificate, public and private key; then the CAs' certificates. */
function objectsOf(credentials: RemoteCredential[], handleFor: (key: string) => number): TokenObject[] {
  const objects: TokenObject[] = [];
  const authorities = new Map<string, Buffer>();
  for (const credential of credentials.filter((c) => c.status === "valid" && c.certificates.length > 0)) {
    const [leaf, ...chain] = credential.certificates;
    let key: CertifiedKey;
    try {
      key = certifiedKey(leaf!);
    } catch {
      continue; // A key the card cannot show (an algorithm it does not know) is left out.
    }
    for (const ca of chain) authorities.set(ca.toString("hex"), ca);
    const common = (cls: number, isPrivate: boolean): [number, AttributeValue][] => [
      [CKA.CLASS, cls],
      [CKA.TOKEN, true],
      [CKA.PRIVATE, isPrivate],
      [CKA.MODIFIABLE, false],
      [CKA.COPYABLE, false],
      [CKA.DESTROYABLE, false],
      [CKA.LABEL, Buffer.from(key.label)],
      [CKA.ID, key.id],
    ];
    const publicParts: [number, AttributeValue][] =
      key.key.type === "RSA"
        ? [
            [CKA.KEY_TYPE, CKK.RSA],
            [CKA.MODULUS, key.key.modulus],
            [CKA.MODULUS_BITS, key.key.bits],
            [CKA.PUBLIC_EXPONENT, key.key.exponent],
          ]
        : [
            [CKA.KEY_TYPE, CKK.EC],
            [CKA.EC_PARAMS, key.key.params],
            [CKA.EC_POINT, key.key.point],
          ];
    objects.push({ handle: handleFor(`${credential.id}:certificate`), private: false, sensitive: new Set(), attributes: new Map([...common(CKO.CERTIFICATE, false), ...certificateAttributes(key, CK_CERTIFICATE_CATEGORY.TOKEN_USER)]) });
    objects.push({
      handle: handleFor(`${credential.id}:public`),
      private: false,
      sensitive: new Set(),
      attributes: new Map([
        ...common(CKO.PUBLIC_KEY, false),
        ...publicParts,
        [CKA.SUBJECT, key.subject],
        [CKA.VERIFY, true],
        [CKA.ENCRYPT, false],
        [CKA.WRAP, false],
        [CKA.VERIFY_RECOVER, false],
        [CKA.DERIVE, false],
        [CKA.LOCAL, true],
        [CKA.PUBLIC_KEY_INFO, key.spki],
      ]),
    });
    objects.push({
      handle: handleFor(`${credential.id}:private`),
      private: true,
      sensitive: new Set(SECRET_PARTS),
      credential: { id: credential.id, key },
      attributes: new Map([
        ...common(CKO.PRIVATE_KEY, true),
        ...publicParts.filter(([type]) => type !== CKA.MODULUS_BITS && type !== CKA.EC_POINT),
        [CKA.SUBJECT, key.subject],
        [CKA.SIGN, true],
        [CKA.SIGN_RECOVER, false],
        [CKA.DECRYPT, false],
        [CKA.UNWRAP, false],
        [CKA.DERIVE, false],
        [CKA.SENSITIVE, true],
        [CKA.ALWAYS_SENSITIVE, true],
        [CKA.EXTRACTABLE, false],
        [CKA.NEVER_EXTRACTABLE, true],
        [CKA.ALWAYS_AUTHENTICATE, false],
        [CKA.LOCAL, true],
        [CKA.PUBLIC_KEY_INFO, key.spki],
        [CKA.ALLOWED_MECHANISMS, key.key.type === "RSA" ? [...RSA_MECHANISMS] : [...EC_MECHANISMS]],
      ]),
    });
  }
  for (const [hex, der] of authorities) {
    let ca: CertifiedKey;
    try {
      ca = certifiedKey(der);
    } catch {
      continue;
    }
    objects.push({
      handle: handleFor(`authority:${createHash("sha256").update(hex).digest("hex")}`),
      private: false,
      sensitive: new Set(),
      attributes: new Map<number, AttributeValue>([
        [CKA.CLASS, CKO.CERTIFICATE],
        [CKA.TOKEN, true],
        [CKA.PRIVATE, false],
        [CKA.MODIFIABLE, false],
        [CKA.LABEL, Buffer.from(ca.commonName)],
        [CKA.ID, ca.id],
        ...certificateAttributes(ca, CK_CERTIFICATE_CATEGORY.AUTHORITY),
      ]),
    });
  }
  return objects;
}

function certificateAttributes(key: CertifiedKey, category: number): [number, AttributeValue][] {
  return [
    [CKA.CERTIFICATE_TYPE, CKC_X_509],
    [CKA.CERTIFICATE_CATEGORY, category],
    [CKA.TRUSTED, false],
    [CKA.SUBJECT, key.subject],
    [CKA.ISSUER, key.issuer],
    [CKA.SERIAL_NUMBER, key.serial],
    [CKA.VALUE, key.der],
  ];
}
