import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecrets } from "../shared/crypto/secrets.ts";
import { systemClock } from "../shared/clock.ts";
import { digest } from "./algorithms.ts";
import { KeystoreError } from "./keystore.ts";
import { rewrapSoleControl, sealContext, softwareKeystore } from "./software-keystore.ts";
import { newProtection, passwordShare } from "./sole-control.ts";

const HASHING = { memoryKiB: 8192, iterations: 1, parallelism: 1 };

describe("keys under their holder's sole control", () => {
  it("sign only with the share of the password they were made under, and follow a change of password", async () => {
    const secrets = createSecrets(randomBytes(32));
    const keystore = softwareKeystore(secrets, systemClock);
    const protection = newProtection(HASHING);
    const share = await passwordShare("Roble-Antiguo-2026", protection);
    const key = await keystore.generate("pro", "EC-P256", { share, protection });
    expect(JSON.parse(key.protection!)).toMatchObject({ kind: "password", memoryKiB: 8192 });
    // What the database holds opens, with the master key alone, to another wrapping only.
    expect(secrets.open(key.private_key!, sealContext("pro", key.id))).toMatch(/^sc1\./);
    const hash = digest("SHA-256", Buffer.from("acta"));
    const mechanism = { name: "ECDSA", hash: "SHA-256" } as const;
    await expect(keystore.sign(key, hash, mechanism)).rejects.toBeInstanceOf(KeystoreError);
    await expect(keystore.sign(key, hash, mechanism, await passwordShare("Roble-Antiguo-2027", protection))).rejects.toThrow("does not unlock");
    expect((await keystore.sign(key, hash, mechanism, share)).length).toBeGreaterThan(60);

    // Re-wrapped under a new password: the old share no longer unlocks it, the new one does.
    const next = newProtection(HASHING);
    const nextShare = await passwordShare("Haya-Roja-2030", next);
    const rewrapped = { ...key, private_key: rewrapSoleControl(secrets, key, share, { share: nextShare, protection: next }), protection: JSON.stringify(next) };
    await expect(keystore.sign(rewrapped, hash, mechanism, share)).rejects.toThrow("does not unlock");
    expect((await keystore.sign(rewrapped, hash, mechanism, nextShare)).length).toBeGreaterThan(60);
    // Another server (another master key) cannot open it even with the password.
    await expect(softwareKeystore(createSecrets(randomBytes(32)), systemClock).sign(rewrapped, hash, mechanism, nextShare)).rejects.toThrow();
  });
});
