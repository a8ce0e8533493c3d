import { createPublicKey, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as asn1js from "asn1js";
import pkcs11js from "pkcs11js";
import type { Clock } from "../shared/clock.ts";
import { newId } from "../shared/ids.ts";
import type { PkiKeyRow } from "../store/repos/pki.ts";
import { CURVES, digestInfo, ecdsaDer, type HashAlgorithm, isRsa, type KeyAlgorithm, type Mechanism, rsaBits } from "./algorithms.ts";
import { checkSignRequest, type Keystore, type KeystoreConfig, KeystoreError } from "./keystore.ts";

type Pkcs11Config = Extract<KeystoreConfig, { kind: "pkcs11" }>;
type Handle = Buffer;

const HASH_MECHANISMS: Record<HashAlgorithm, { hash: number; mgf: number }> = {
  "SHA-256": { hash: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256 },
  "SHA-384": { hash: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384 },
  "SHA-512": { hash: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512 },
};

/** Idle sessions kept per token; more are opened while signatures run in parallel. */
const IDLE_SESSIONS = 8;

/**
 * A library is initialised once per process (C_Initialize may not be called twice), whatever
 * number of tenants use it: one PKCS11 per library path.
 */
const libraries = new Map<string, pkcs11js.PKCS11>();

function library(path: string): pkcs11js.PKCS11 {
  let lib = libraries.get(path);
  if (!lib) {
    lib = new pkcs11js.PKCS11();
    lib.load(path);
    // Signatures and key generation run on libuv's threads: the library must lock for itself.
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    libraries.set(path, lib);
  }
  return lib;
}

/** A token, signed in once (a PKCS#11 login holds for every session of the application). */
interface Token {
  lib: pkcs11js.PKCS11;
  slot: Handle;
  idle: Handle[];
  /** Private-key handles by CKA_ID (hex): a token object's handle stays valid in this process. */
  handles: Map<string, Handle>;
}
const tokens = new Map<string, Token>();

function pinOf(config: Pkcs11Config): string {
  if (config.pinEnv) {
    const pin = process.env[config.pinEnv];
    if (!pin) throw new KeystoreError(`the PKCS#11 PIN variable ${config.pinEnv} is not set`);
    return pin;
  }
  try {
    return readFileSync(config.pinFile!, "utf8").split(/\r?\n/)[0]!;
  } catch (cause) {
    throw new KeystoreError(`the PKCS#11 PIN file ${config.pinFile} cannot be read`, { cause });
  }
}

function tokenOf(config: Pkcs11Config): Token {
  const name = `${config.module}\u0000${config.tokenLabel}`;
  const known = tokens.get(name);
  if (known) return known;
  const lib = library(config.module);
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === config.tokenLabel);
  if (!slot) throw new KeystoreError(`no PKCS#11 token labelled ${JSON.stringify(config.tokenLabel)} in ${config.module}`);
  const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    lib.C_Login(session, pkcs11js.CKU_USER, pinOf(config));
  } catch (err) {
    if (!(err instanceof pkcs11js.Pkcs11Error && err.code === pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) {
      lib.C_CloseSession(session);
      throw new KeystoreError(`PKCS#11 login to token ${JSON.stringify(config.tokenLabel)} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  const token: Token = { lib, slot, idle: [session], handles: new Map() };
  tokens.set(name, token);
  return token;
}

async function withSession<T>(token: Token, work: (session: Handle) => Promise<T>): Promise<T> {
  const session = token.idle.pop() ?? token.lib.C_OpenSession(token.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    return await work(session);
  } finally {
    if (token.idle.length < IDLE_SESSIONS) token.idle.push(session);
    else token.lib.C_CloseSession(session);
  }
}

function findObject(token: Token, session: Handle, objectClass: number, id: Buffer): Handle | undefined {
  token.lib.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: objectClass },
    { type: pkcs11js.CKA_ID, value: id },
  ]);
  try {
    return token.lib.C_FindObjects(session) ?? undefined;
  } finally {
    token.lib.C_FindObjectsFinal(session);
  }
}

/** The token's public key as SubjectPublicKeyInfo, through Node (no DER written by hand). */
function spkiOf(token: Token, session: Handle, publicKey: Handle, algorithm: KeyAlgorithm): Buffer {
  if (isRsa(algorithm)) {
    const [n, e] = token.lib.C_GetAttributeValue(session, publicKey, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
    const jwk = { kty: "RSA", n: n!.value.toString("base64url"), e: e!.value.toString("base64url") };
    return createPublicKey({ key: jwk, format: "jwk" }).export({ format: "der", type: "spki" });
  }
  const [point] = token.lib.C_GetAttributeValue(session, publicKey, [{ type: pkcs11js.CKA_EC_POINT }]);
  // CKA_EC_POINT is the DER encoding of an OCTET STRING holding the uncompressed point (PKCS#11 v2.40 §2.3.3).
  const octets = asn1js.fromBER(point!.value).result;
  const raw = octets instanceof asn1js.OctetString ? Buffer.from(octets.valueBlock.valueHexView) : point!.value;
  const size = (raw.length - 1) / 2;
  const jwk = { kty: "EC", crv: CURVES[algorithm as keyof typeof CURVES].node, x: raw.subarray(1, 1 + size).toString("base64url"), y: raw.subarray(1 + size).toString("base64url") };
  return createPublicKey({ key: jwk, format: "jwk" }).export({ format: "der", type: "spki" });
}

/**
 * Keys on a PKCS#11 token (an HSM; SoftHSM2 in the tests): generated there, sensitive and not
 * extractable, found again by CKA_ID. Only digests go to the token: CKM_RSA_PKCS over the
 * DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA (whose raw r‖s is turned into DER here).
 */
export function pkcs11Keystore(config: Pkcs11Config, clock: Clock): Keystore {
  const token = () => tokenOf(config);

  async function privateHandle(key: PkiKeyRow, session: Handle): Promise<Handle> {
    const t = token();
    const id = key.token_object;
    if (id === null) throw new KeystoreError(`key ${key.id} is not on a token`);
    let handle = t.handles.get(id);
    if (!handle) {
      handle = findObject(t, session, pkcs11js.CKO_PRIVATE_KEY, Buffer.from(id, "hex"));
      if (!handle) throw new KeystoreError(`key ${key.id} is not on token ${JSON.stringify(config.tokenLabel)}`);
      t.handles.set(id, handle);
    }
    return handle;
  }

  return {
    kind: "pkcs11",

    async generate(tenantId, algorithm) {
      const t = token();
      const id = newId();
      const objectId = randomBytes(16);
      const label = `tessera:${tenantId}:${id}`;
      const common = [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_ID, value: objectId },
        { type: pkcs11js.CKA_LABEL, value: label },
      ];
      const rsa = isRsa(algorithm);
      const mechanism = { mechanism: rsa ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN };
      const publicTemplate = [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_VERIFY, value: true },
        ...(rsa
          ? [
              { type: pkcs11js.CKA_MODULUS_BITS, value: rsaBits(algorithm) },
              { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
            ]
          : [{ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(new asn1js.ObjectIdentifier({ value: CURVES[algorithm as keyof typeof CURVES].oid }).toBER()) }]),
      ];
      const privateTemplate = [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
      ];
      return withSession(t, async (session) => {
        const pair = await t.lib.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
        t.handles.set(objectId.toString("hex"), pair.privateKey);
        return {
          tenant_id: tenantId,
          id,
          keystore: "pkcs11",
          algorithm,
          public_key: spkiOf(t, session, pair.publicKey, algorithm).toString("base64"),
          private_key: null,
          token_object: objectId.toString("hex"),
          created_at: clock.now(),
          destroyed_at: null,
          // A credential's key is a token object like any other: the token's PIN is the service's,
          // so its holder's control is the SAD the caller checks before every use.
          protection: null,
        };
      });
    },

    async sign(key, digest, mechanism) {
      checkSignRequest(key, digest, mechanism);
      const t = token();
      return withSession(t, async (session) => {
        const handle = await privateHandle(key, session);
        const { input, params } = toPkcs11(digest, mechanism);
        t.lib.C_SignInit(session, params, handle);
        // Large enough for any signature of the keys made here (RSA-4096: 512 bytes).
        const signature = await t.lib.C_SignAsync(session, input, Buffer.alloc(1024));
        return mechanism.name === "ECDSA" ? ecdsaDer(signature) : Buffer.from(signature);
      });
    },

    async publicKey(key) {
      const t = token();
      return withSession(t, async (session) => {
        const handle = findObject(t, session, pkcs11js.CKO_PUBLIC_KEY, Buffer.from(key.token_object ?? "", "hex"));
        if (!handle) throw new KeystoreError(`public key ${key.id} is not on token ${JSON.stringify(config.tokenLabel)}`);
        return spkiOf(t, session, handle, key.algorithm as KeyAlgorithm);
      });
    },

    async destroy(key) {
      const t = token();
      if (key.token_object === null) return;
      const id = Buffer.from(key.token_object, "hex");
      await withSession(t, async (session) => {
        for (const objectClass of [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY]) {
          const handle = findObject(t, session, objectClass, id);
          if (handle) t.lib.C_DestroyObject(session, handle);
        }
      });
      t.handles.delete(key.token_object);
    },
  };
}

function toPkcs11(digest: Uint8Array, mechanism: Mechanism): { input: Buffer; params: pkcs11js.Mechanism } {
  switch (mechanism.name) {
    case "RSA-PKCS1":
      return { input: digestInfo(mechanism.hash, digest), params: { mechanism: pkcs11js.CKM_RSA_PKCS } };
    case "RSA-PSS": {
      const { hash, mgf } = HASH_MECHANISMS[mechanism.hash];
      const parameter: pkcs11js.RsaPSS = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: hash, mgf, saltLen: mechanism.saltLength };
      return { input: Buffer.from(digest), params: { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter } };
    }
    case "ECDSA":
      return { input: Buffer.from(digest), params: { mechanism: pkcs11js.CKM_ECDSA } };
  }
}
