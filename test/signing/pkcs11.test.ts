import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { cscScene } from "../helpers/csc.ts";
import { run } from "../helpers/pki.ts";
import { softhsmAvailable, softhsmToken } from "../helpers/softhsm.ts";

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

describe.runIf(softhsmAvailable)("remote signing with the credentials' keys on a PKCS#11 token (SoftHSM2)", () => {
  // Made before the library is first initialised (SoftHSM finds its tokens then).
  const token = softhsmAvailable ? softhsmToken("tessera-signing") : undefined;
  let scene: Awaited<ReturnType<typeof cscScene>> | undefined;
  afterAll(async () => {
    await scene?.t.close();
  });

  it("keeps a credential's key a token object, used only for the hashes a SAD authorised", async () => {
    process.env.TESSERA_TEST_HSM_PIN = token!.pin;
    scene = await cscScene({ keystore: { kind: "pkcs11", module: token!.module, tokenLabel: token!.tokenLabel, pinEnv: "TESSERA_TEST_HSM_PIN" } });
    const { call, authorize, credentialId, t } = scene;
    const membership = await t.store.db.selectFrom("memberships").select("key_id").where("id", "=", credentialId).executeTakeFirstOrThrow();
    const key = await t.store.db.selectFrom("pki_keys").selectAll().where("id", "=", membership.key_id!).executeTakeFirstOrThrow();
    // No copy of it outside the token, and nothing for a password to unwrap: the SAD is its holder's control.
    expect(key).toMatchObject({ keystore: "pkcs11", private_key: null, protection: null, token_object: expect.any(String) });
    const objects = await run("pkcs11-tool", ["--module", token!.module, "--token-label", token!.tokenLabel, "--login", "--pin", token!.pin, "--list-objects", "--type", "privkey"]);
    expect(objects.stdout).toContain(`tessera:pro:${key.id}`);

    const hash = createHash("sha256").update("acta en el token").digest("base64");
    expect((await call("signatures/signHash", { credentialID: credentialId, SAD: "forged", hashes: [hash], signAlgo: ECDSA_SHA256 })).status).toBe(400);
    const sad = await authorize([hash]);
    const signed = await call("signatures/signHash", { credentialID: credentialId, SAD: sad, hashes: [hash], signAlgo: ECDSA_SHA256 });
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    expect((await call("signatures/signHash", { credentialID: credentialId, SAD: sad, hashes: [hash], signAlgo: ECDSA_SHA256 })).status).toBe(400);
  });
});
