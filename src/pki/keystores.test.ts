import { constants, createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecrets } from "../shared/crypto/secrets.ts";
import { randomBytes } from "node:crypto";
import { digest, type HashAlgorithm, type KeyAlgorithm } from "./algorithms.ts";
import type { Keystore } from "./keystore.ts";
import { pkcs11Keystore } from "./pkcs11-keystore.ts";
import { softwareKeystore } from "./software-keystore.ts";
import { softhsmAvailable, softhsmToken } from "../../test/helpers/softhsm.ts";

const clock = { now: () => Date.UTC(2026, 11, 6) };
const message = Buffer.from("Tessera signs what it is given, and nothing else");

function nodeVerify(spki: Buffer, algorithm: KeyAlgorithm, hash: HashAlgorithm, signature: Buffer, pss = false): boolean {
  const key = createPublicKey({ key: spki, format: "der", type: "spki" });
  const name = hash.replace("-", "").toLowerCase();
  if (algorithm.startsWith("EC-")) return verify(name, message, { key, dsaEncoding: "der" }, signature);
  return verify(name, message, pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key, signature);
}

function suite(name: string, make: () => Keystore) {
  describe(`${name} keystore`, () => {
    it("signs digests with RSA (PKCS#1 v1.5 and PSS) and ECDSA keys, as OpenSSL verifies them over the message", async () => {
      const keystore = make();
      for (const algorithm of ["RSA-2048", "EC-P256", "EC-P384"] as const) {
        const key = await keystore.generate("t1", algorithm);
        expect(key.algorithm).toBe(algorithm);
        const spki = await keystore.publicKey(key);
        expect(spki.toString("base64")).toBe(key.public_key);
        for (const hash of ["SHA-256", "SHA-384", "SHA-512"] as const) {
          const mechanism = algorithm === "RSA-2048" ? { name: "RSA-PKCS1" as const, hash } : { name: "ECDSA" as const, hash };
          const signature = await keystore.sign(key, digest(hash, message), mechanism);
          expect(nodeVerify(spki, algorithm, hash, signature), `${algorithm} ${hash}`).toBe(true);
          // Another message's digest gives a signature that does not verify for this one.
          const other = await keystore.sign(key, digest(hash, Buffer.from("something else")), mechanism);
          expect(nodeVerify(spki, algorithm, hash, other)).toBe(false);
        }
        if (algorithm === "RSA-2048") {
          const pss = await keystore.sign(key, digest("SHA-256", message), { name: "RSA-PSS", hash: "SHA-256", saltLength: 32 });
          expect(nodeVerify(spki, algorithm, "SHA-256", pss, true)).toBe(true);
        }
      }
    });

    it("refuses a digest of the wrong length and a mechanism of another key type", async () => {
      const keystore = make();
      const rsa = await keystore.generate("t1", "RSA-2048");
      const ec = await keystore.generate("t1", "EC-P256");
      await expect(keystore.sign(rsa, Buffer.alloc(20), { name: "RSA-PKCS1", hash: "SHA-256" })).rejects.toThrow(/32 bytes, not 20/);
      await expect(keystore.sign(rsa, digest("SHA-256", message), { name: "ECDSA", hash: "SHA-256" })).rejects.toThrow(/ECDSA/);
      await expect(keystore.sign(ec, digest("SHA-256", message), { name: "RSA-PKCS1", hash: "SHA-256" })).rejects.toThrow(/RSA/);
    });
  });
}

suite("software", () => softwareKeystore(createSecrets(randomBytes(32)), clock));

describe.runIf(softhsmAvailable)("PKCS#11", () => {
  // SoftHSM finds its tokens when first initialised: both are made before any test runs.
  const token = softhsmAvailable ? softhsmToken("keystore-test") : undefined;
  const other = softhsmAvailable ? softhsmToken("keystore-other") : undefined;
  process.env.TESSERA_TEST_PIN = token?.pin;
  const onToken = () => pkcs11Keystore({ kind: "pkcs11", module: token!.module, tokenLabel: token!.tokenLabel, pinEnv: "TESSERA_TEST_PIN" }, clock);

  suite("SoftHSM2", onToken);

  it("keeps private keys on the token, sensitive, and destroys them there", async () => {
    const keystore = onToken();
    const key = await keystore.generate("t1", "EC-P256");
    expect(key.private_key).toBeNull();
    expect(key.token_object).toMatch(/^[0-9a-f]{32}$/);
    await keystore.destroy(key);
    await expect(keystore.sign(key, digest("SHA-256", message), { name: "ECDSA", hash: "SHA-256" })).rejects.toThrow();
    await expect(keystore.publicKey(key)).rejects.toThrow(/not on token/);
  });

  it("says which PIN is wrong or missing, and which token is not there", async () => {
    process.env.TESSERA_WRONG_PIN = "000000";
    const unset = pkcs11Keystore({ kind: "pkcs11", module: other!.module, tokenLabel: other!.tokenLabel, pinEnv: "TESSERA_NO_SUCH_PIN" }, clock);
    await expect(unset.generate("t1", "EC-P256")).rejects.toThrow(/TESSERA_NO_SUCH_PIN is not set/);
    const wrong = pkcs11Keystore({ kind: "pkcs11", module: other!.module, tokenLabel: other!.tokenLabel, pinEnv: "TESSERA_WRONG_PIN" }, clock);
    await expect(wrong.generate("t1", "EC-P256")).rejects.toThrow(/login .* failed.*CKR_PIN_INCORRECT/);
    const absent = pkcs11Keystore({ kind: "pkcs11", module: other!.module, tokenLabel: "no-such-token", pinEnv: "TESSERA_WRONG_PIN" }, clock);
    await expect(absent.generate("t1", "EC-P256")).rejects.toThrow(/no PKCS#11 token labelled "no-such-token"/);
  });
});
