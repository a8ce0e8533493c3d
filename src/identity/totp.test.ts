import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type IdentityFixture, identityFixture } from "../../test/helpers/identity.ts";
import { dialects } from "../../test/helpers/stores.ts";
import { beginTotpEnrolment, confirmTotpEnrolment, removeTotp, verifyTotp } from "./totp.ts";

const by = { actor: "test" };

/** RFC 6238 / RFC 4226 written out independently of the library under test. */
function referenceTotp(secretBase32: string, timeMs: number, digits = 6): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secretBase32.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(value).padStart(digits, "0");
}

describe("reference TOTP", () => {
  it("matches the RFC 6238 appendix B vectors (SHA-1)", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
    expect(referenceTotp(secret, 59_000, 8)).toBe("94287082");
    expect(referenceTotp(secret, 1_111_111_109_000, 8)).toBe("07081804");
    expect(referenceTotp(secret, 20_000_000_000_000, 8)).toBe("65353130");
  });
});

describe.each(dialects)("authenticator app (TOTP) on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  async function enrolled() {
    const account = await f.account();
    const enrolment = await beginTotpEnrolment(f.deps, f.tenant, account);
    const code = referenceTotp(enrolment.secret, f.clock.now());
    expect(await confirmTotpEnrolment(f.deps, f.tenant, account, enrolment.factorId, code, by)).toMatchObject({ ok: true });
    return { account, enrolment };
  }

  it("shows a QR code made here and the secret as text, and seals the secret at rest", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const enrolment = await beginTotpEnrolment(f.deps, f.tenant, account);
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolment.uri).toBe(
      `otpauth://totp/Tessera%20ID:${encodeURIComponent(account.identifier)}?issuer=Tessera%20ID&secret=${enrolment.secret}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(enrolment.qrSvg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);
    const [row] = await f.store.repos.factors.totpFactors(account.id);
    expect(row!.secret).not.toContain(enrolment.secret);
    expect(row!.confirmed_at).toBeNull();
  });

  it("is confirmed by a first good code only", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const enrolment = await beginTotpEnrolment(f.deps, f.tenant, account);
    const good = referenceTotp(enrolment.secret, f.clock.now());
    const bad = good === "000000" ? "000001" : "000000";
    expect(await confirmTotpEnrolment(f.deps, f.tenant, account, enrolment.factorId, bad, by)).toEqual({ ok: false, reason: "totp.invalid" });
    expect(await verifyTotp(f.deps, f.tenant, account, good)).toEqual({ ok: false, reason: "totp.not_enrolled" });
    expect(await confirmTotpEnrolment(f.deps, f.tenant, account, enrolment.factorId, good, by)).toEqual({ ok: true, factorId: enrolment.factorId });
    // The confirming code is spent.
    expect(await verifyTotp(f.deps, f.tenant, account, good)).toEqual({ ok: false, reason: "totp.replayed" });
  });

  it("accepts codes one step either side of now, not two", async () => {
    f = await identityFixture(dialect);
    const { account, enrolment } = await enrolled();
    f.clock.advance(5 * 60_000);
    const now = f.clock.now();
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, now - 60_000))).toEqual({ ok: false, reason: "totp.invalid" });
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, now - 30_000))).toMatchObject({ ok: true });
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, now))).toMatchObject({ ok: true });
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, now + 30_000))).toMatchObject({ ok: true });
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, now + 60_000))).toEqual({ ok: false, reason: "totp.invalid" });
  });

  it("refuses a code already used, and any code of an earlier step after it", async () => {
    f = await identityFixture(dialect);
    const { account, enrolment } = await enrolled();
    f.clock.advance(10 * 60_000);
    const now = f.clock.now();
    const current = referenceTotp(enrolment.secret, now);
    expect(await verifyTotp(f.deps, f.tenant, account, current)).toMatchObject({ ok: true });
    expect(await verifyTotp(f.deps, f.tenant, account, current)).toEqual({ ok: false, reason: "totp.replayed" });
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, now - 30_000))).toEqual({ ok: false, reason: "totp.replayed" });
    f.clock.advance(30_000);
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, f.clock.now()))).toMatchObject({ ok: true });
  });

  it("can be removed", async () => {
    f = await identityFixture(dialect);
    const { account, enrolment } = await enrolled();
    expect(await removeTotp(f.deps, f.tenant, account, enrolment.factorId, by)).toBe(true);
    f.clock.advance(60_000);
    expect(await verifyTotp(f.deps, f.tenant, account, referenceTotp(enrolment.secret, f.clock.now()))).toEqual({ ok: false, reason: "totp.not_enrolled" });
    const types = (await f.store.repos.audit.page(f.tenant.id, 0, 50)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["factor.added", "factor.removed"]));
  });
});
