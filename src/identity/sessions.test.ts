import { afterEach, describe, expect, it } from "vitest";
import { type IdentityFixture, identityFixture } from "../../test/helpers/identity.ts";
import { dialects } from "../../test/helpers/stores.ts";
import { TesseraError } from "../shared/errors.ts";
import { amrFor, EIDAS_LOA, levelFromAcr, SPID_ACR, withMfa } from "./levels.ts";
import { createSession, elevateSession, findSession, hashToken, listSessions, requireLevel, revokeAllSessions, revokeSession } from "./sessions.ts";

const by = { actor: "test" };
const MINUTE = 60_000;

describe("levels and methods", () => {
  it("maps levels to SPID ACR URIs and eIDAS levels, both ways", () => {
    expect(SPID_ACR[2]).toBe("https://www.spid.gov.it/SpidL2");
    expect(EIDAS_LOA[3]).toBe("http://eidas.europa.eu/LoA/high");
    expect(levelFromAcr("https://www.spid.gov.it/SpidL1")).toBe(1);
    expect(levelFromAcr("http://eidas.europa.eu/LoA/substantial")).toBe(2);
    expect(levelFromAcr("https://www.spid.gov.it/SpidL4")).toBeUndefined();
  });

  it("records RFC 8176 method references, with mfa for two factors", () => {
    expect(amrFor(["password"])).toEqual(["pwd"]);
    expect(amrFor(["password", "sms"])).toEqual(["mfa", "otp", "pwd", "sms"]);
    expect(amrFor(["password", "totp"])).toEqual(["mfa", "otp", "pwd"]);
    expect(amrFor(["passkey"])).toEqual(["hwk", "mfa", "user"]);
    expect(withMfa(["pwd", "pwd"])).toEqual(["pwd"]);
  });
});

describe.each(dialects)("sessions on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  it("hand the client a token and store only its hash", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const { session, token } = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"], ip: "192.0.2.1", userAgent: "test" }, by);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session).toMatchObject({ level: 1, acr: SPID_ACR[1], eidasLoa: EIDAS_LOA[1], amr: ["pwd"], ip: "192.0.2.1" });
    const rows = await f.store.db.selectFrom("sessions").selectAll().execute();
    expect(rows[0]!.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await findSession(f.deps, f.tenant, token)).toMatchObject({ id: session.id, accountId: account.id });
    expect(await findSession(f.deps, f.tenant, `${token}x`)).toBeUndefined();
  });

  it("end after the idle time without use (29:59 alive, 30:00 gone), and use keeps them alive", async () => {
    f = await identityFixture(dialect); // national: 30 minutes idle, 8 hours absolute
    const account = await f.account();
    const { token } = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"] }, by);
    f.clock.advance(30 * MINUTE - 1000);
    expect(await findSession(f.deps, f.tenant, token)).toBeDefined();
    f.clock.advance(30 * MINUTE - 1000);
    expect(await findSession(f.deps, f.tenant, token)).toBeDefined();
    f.clock.advance(30 * MINUTE);
    expect(await findSession(f.deps, f.tenant, token)).toBeUndefined();
    expect(await f.store.db.selectFrom("sessions").selectAll().execute()).toEqual([]);
  });

  it("end at their absolute lifetime however much they are used", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const { token } = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"] }, by);
    for (let elapsed = 0; elapsed < 8 * 60 - 20; elapsed += 20) {
      f.clock.advance(20 * MINUTE);
      expect(await findSession(f.deps, f.tenant, token)).toBeDefined();
    }
    f.clock.advance(20 * MINUTE);
    expect(await findSession(f.deps, f.tenant, token)).toBeUndefined();
  });

  it("get a new token when the level rises, and the old token stops working", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const first = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"] }, by);
    f.clock.advance(MINUTE);
    const raised = await elevateSession(f.deps, f.tenant, first.session, { level: 2, amr: amrFor(["totp"]) }, by);
    expect(raised.token).not.toBe(first.token);
    expect(raised.session).toMatchObject({ id: first.session.id, level: 2, acr: SPID_ACR[2], amr: ["mfa", "otp", "pwd"] });
    expect(await findSession(f.deps, f.tenant, first.token)).toBeUndefined();
    expect(await findSession(f.deps, f.tenant, raised.token)).toMatchObject({ level: 2, authenticatedAt: f.clock.now() });
    // The level never falls.
    const again = await elevateSession(f.deps, f.tenant, raised.session, { level: 1, amr: ["pwd"] }, by);
    expect(again.session.level).toBe(2);
  });

  it("rotate once when two raises race, and not at all once revoked", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const { session } = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"] }, by);
    await elevateSession(f.deps, f.tenant, session, { level: 2, amr: ["otp"] }, by);
    await expect(elevateSession(f.deps, f.tenant, session, { level: 2, amr: ["otp"] }, by)).rejects.toMatchObject({ code: "session.required" });
    const other = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"] }, by);
    await revokeSession(f.deps, f.tenant, account, other.session.id, by);
    await expect(elevateSession(f.deps, f.tenant, other.session, { level: 2, amr: ["otp"] }, by)).rejects.toMatchObject({ code: "session.required" });
  });

  it("are listed and revoked one by one or all at once", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const a = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"], userAgent: "phone" }, by);
    const b = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"], userAgent: "laptop" }, by);
    const c = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"], userAgent: "tablet" }, by);
    expect((await listSessions(f.deps, f.tenant, account)).map((s) => s.userAgent).sort()).toEqual(["laptop", "phone", "tablet"]);
    expect(await revokeSession(f.deps, f.tenant, account, b.session.id, by)).toBe(true);
    expect(await revokeSession(f.deps, f.tenant, await f.account(), a.session.id, by)).toBe(false);
    expect(await findSession(f.deps, f.tenant, b.token)).toBeUndefined();
    expect(await revokeAllSessions(f.deps, f.tenant, account, by, a.session.id)).toBe(1);
    expect(await findSession(f.deps, f.tenant, c.token)).toBeUndefined();
    expect(await findSession(f.deps, f.tenant, a.token)).toBeDefined();
  });

  it("stop working when the account is suspended or revoked", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const { token } = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"] }, by);
    await f.store.repos.accounts.update(f.tenant.id, account.id, { state: "suspended" });
    expect(await findSession(f.deps, f.tenant, token)).toBeUndefined();
  });

  it("belong to their tenant", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const { token } = await createSession(f.deps, f.tenant, account, { level: 1, amr: ["pwd"] }, by);
    expect(await findSession(f.deps, { ...f.tenant, id: "other" }, token)).toBeUndefined();
  });

  it("ask for a step-up when a step needs a higher level", async () => {
    f = await identityFixture(dialect);
    const { session } = await createSession(f.deps, f.tenant, await f.account(), { level: 1, amr: ["pwd"] }, by);
    expect(() => requireLevel(session, 1)).not.toThrow();
    try {
      requireLevel(session, 2);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TesseraError);
      expect(err).toMatchObject({ code: "session.step_up_required", status: 401, params: { level: 2, acr: SPID_ACR[2] } });
    }
    expect(() => requireLevel(undefined, 1)).toThrow(expect.objectContaining({ code: "session.required" }));
  });
});
