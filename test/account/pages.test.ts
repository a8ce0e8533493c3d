import { afterEach, describe, expect, it } from "vitest";
import { createSession } from "../../src/identity/sessions.ts";
import { verifyPassword } from "../../src/identity/password/service.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { member, PASSWORD } from "../helpers/flows.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

/** A form post from the panel, as a browser sends it (same origin, session cookie). */
const post = (path: string, token: string, form: Record<string, string> = {}) =>
  t.app.inject({
    method: "POST",
    url: `/t/national/account${path}`,
    headers: { cookie: `tessera_session=${token}`, origin: "http://localhost", "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
    payload: new URLSearchParams(form).toString(),
  });

describe("the panel's changes", () => {
  it("send a stale session to sign in again, and change nothing", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "national", { identifier: "carlo@example.it" });
    const { token } = await createSession(t.deps, tenant, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    t.clock.advance(16 * 60_000);
    const res = await post("/password", token, { password: "Nuova-Chiave-Sicura-88" });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/t/national/login?return_to=%2Ft%2Fnational%2Faccount&level=1&notice=login.reauth");
    expect((await verifyPassword(t.deps, tenant, account, PASSWORD)).ok).toBe(true);
    expect(t.logs.join("")).not.toContain("FST_ERR_REP_ALREADY_SENT");
  });

  it("show the policy's errors on the panel, and the new recovery codes once", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "national", { identifier: "dora@example.it" });
    const { token } = await createSession(t.deps, tenant, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    const weak = await post("/password", token, { password: "dora" });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain("Almeno 8 caratteri");
    const codes = await post("/recovery-codes", token);
    expect(codes.statusCode).toBe(200);
    expect(codes.body.match(/\b[0-9A-Z]{5}-[0-9A-Z]{5}\b/g)).toHaveLength(10);
    expect(await t.store.repos.factors.unusedRecoveryCodes(account.id)).toBe(10);
  });
});
