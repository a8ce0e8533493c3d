import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecrets, SecretError } from "./secrets.ts";

describe("secrets", () => {
  const secrets = createSecrets(randomBytes(32));

  it("seals and opens, with a fresh IV each time", () => {
    const a = secrets.seal("JBSWY3DPEHPK3PXP", "totp:1");
    const b = secrets.seal("JBSWY3DPEHPK3PXP", "totp:1");
    expect(a).not.toBe(b);
    expect(a).not.toContain("JBSWY3DPEHPK3PXP");
    expect(secrets.open(a, "totp:1")).toBe("JBSWY3DPEHPK3PXP");
  });

  it("refuses another context, another key, or a tampered ciphertext", () => {
    const sealed = secrets.seal("secret", "totp:1");
    expect(() => secrets.open(sealed, "totp:2")).toThrow(SecretError);
    expect(() => createSecrets(randomBytes(32)).open(sealed, "totp:1")).toThrow(SecretError);
    const [v, iv, body, tag] = sealed.split(".");
    const flipped = Buffer.from(body!, "base64url");
    flipped[0]! ^= 1;
    expect(() => secrets.open([v, iv, flipped.toString("base64url"), tag].join("."), "totp:1")).toThrow(SecretError);
    expect(() => secrets.open("garbage", "totp:1")).toThrow(SecretError);
    // A tag cut to 4 bytes would make forgery a matter of 2^32 tries: refused outright.
    const short = Buffer.from(tag!, "base64url").subarray(0, 4).toString("base64url");
    expect(() => secrets.open([v, iv, body, short].join("."), "totp:1")).toThrow(/truncated tag/);
  });

  it("macs with a key of its own, compared in constant time", () => {
    const tag = secrets.mac("otp:123456");
    expect(secrets.macEquals("otp:123456", tag)).toBe(true);
    expect(secrets.macEquals("otp:123457", tag)).toBe(false);
    expect(secrets.macEquals("otp:123456", "short")).toBe(false);
    expect(createSecrets(randomBytes(32)).mac("otp:123456")).not.toBe(tag);
  });
});
