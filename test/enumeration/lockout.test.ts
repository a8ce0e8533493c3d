import { afterEach, describe, expect, it } from "vitest";
import { createAccount } from "../../src/identity/accounts.ts";
import { setPassword } from "../../src/identity/password/service.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { flowClient, member, PASSWORD } from "../helpers/flows.ts";

/**
 * Issue 21: the brute-force lock must not tell who exists either. Failures are counted per
 * identifier as typed (and per client address), so an identifier nobody has, tried as often as
 * a real one, is locked exactly like it: the same answers, try after try, up to the lock and
 * after it, on every path that takes a secret with an identifier.
 */
let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const WRONG = "Sbagliata-Davvero-2026!";
type Answer = [status: number, code: string | undefined, message: string | undefined];

/**
 * `tries` attempts, the clock moved past each growing delay (so that only the lock stops them),
 * each answer reduced to its status, first error code and message.
 */
async function attempts(tries: number, attempt: () => Promise<{ status: number; body: string }>): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < tries; i++) {
    const { status, body } = await attempt();
    const json = body.startsWith("{") ? (JSON.parse(body) as { error?: string; errors?: { code: string; message: string }[]; error_description?: string }) : undefined;
    const error = json?.errors?.[0];
    answers.push([status, error?.code ?? json?.error, error?.message ?? json?.error_description]);
    t.clock.advance(2 ** i * 1000 + 1);
  }
  return answers;
}

const post = async (url: string, payload: Record<string, unknown>) => {
  const res = await t.app.inject({ method: "POST", url, payload, headers: { "accept-language": "en" } });
  return { status: res.statusCode, body: res.body };
};

/** A lock after `maxFailures` (5) wrong tries: six tries, five refusals then "locked". */
const TRIES = 6;

function expectLockedAlike(known: Answer[], unknown: Answer[]) {
  expect(unknown).toEqual(known);
  expect(known.slice(0, 5).map((a) => a[1])).not.toContain("locked");
  expect(known.at(-1)).toEqual([expect.any(Number), expect.stringMatching(/locked/), expect.stringMatching(/locked/i)]);
}

describe("an unknown identifier is locked exactly like a known one (issue 21)", () => {
  it("sign-in through the flow API, and then even the right password is refused", async () => {
    t = await testApp();
    await member(t, "university", { identifier: "10000042", email: "s42@example.it", emailVerified: true });
    const api = flowClient(t.app, "university");
    const tryOnce = (identifier: string, password = WRONG) => async () => {
      const flow = await api.started({ kind: "login" });
      return post(`/t/university/api/flows/${flow.id}`, { step: "identify", identifier, password });
    };
    const known = await attempts(TRIES, tryOnce("10000042"));
    const unknown = await attempts(TRIES, tryOnce("10009999"));
    expectLockedAlike(known, unknown);
    // Locked is locked: the right password does not tell the account apart either.
    expect((await attempts(1, tryOnce("10000042", PASSWORD)))[0]!.slice(0, 2)).toEqual([400, "locked"]);
  });

  it("a malformed identifier is counted and locked too: no way round the lock", async () => {
    t = await testApp();
    const api = flowClient(t.app, "pro");
    const answers = await attempts(TRIES, async () => {
      const flow = await api.started({ kind: "login" });
      return post(`/t/pro/api/flows/${flow.id}`, { step: "identify", identifier: "12345678A", password: WRONG });
    });
    expect(answers.slice(0, 5).map((a) => a[1])).toEqual(Array(5).fill("invalid_identifier"));
    expect(answers.at(-1)?.[1]).toBe("locked");
  });

  it("the sign-in page of a SAML request offers the service the same ErrorCode 19 for both", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "bruno@example.it", email: "bruno@example.it", emailVerified: true });
    const page = (identifier: string) => async () => {
      const res = await t.app.inject({
        method: "POST",
        url: "/t/national/login",
        headers: { origin: "http://localhost", "accept-language": "en", accept: "text/html" },
        payload: { identifier, password: WRONG, level: "1", return_to: "/t/national/saml/sso/ticket-1" },
      });
      // The page's answer: its error, and what its "back to the service" form would report.
      const error = /id="field-password-error">([^<]*)</.exec(res.body)?.[1];
      const outcome = /name="outcome" value="([^"]+)"/.exec(res.body)?.[1];
      return { status: res.statusCode, body: JSON.stringify({ errors: [{ code: outcome ?? "none", message: error }] }) };
    };
    const known = await attempts(TRIES, page("bruno@example.it"));
    const unknown = await attempts(TRIES, page("nessuno@example.it"));
    expect(unknown).toEqual(known);
    expect(known.slice(0, 5).map((a) => a[1])).toEqual(Array(5).fill("none"));
    // `locked` is what the abort form posts, and what the SAML side answers as nr19 (docs/saml.md).
    expect(known.at(-1)?.[1]).toBe("locked");
  });

  it("the security question of password recovery", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "carla@example.it", phone: "+393331110042", phoneVerified: true }, { answer: { question: "first_pet", answer: "Fuffi" } });
    const api = flowClient(t.app, "national");
    const answering = async (identifier: string) => {
      const flow = await api.started({ kind: "recovery" });
      await api.ok(flow.id, "identify", { identifier });
      return () => post(`/t/national/api/flows/${flow.id}`, { step: "question", answer: "Rex" });
    };
    const known = await attempts(TRIES, await answering("carla@example.it"));
    const unknown = await attempts(TRIES, await answering("nessuno@example.it"));
    expectLockedAlike(known, unknown);
  });

  it('"Ho già un account": the shop password at enrolment', async () => {
    t = await testApp();
    const national = (await findTenant(t.store.repos, "national"))!;
    const shop = await createAccount(t.deps, national, { identifier: "negozio@example.it", kind: "customer", state: "active", email: "negozio@example.it" }, { actor: "test" });
    await setPassword(t.deps, national, shop, PASSWORD, { actor: "test" });
    const api = flowClient(t.app, "national");
    const linking = (email: string) => async () => {
      const flow = await api.started({ kind: "enrolment" });
      await api.ok(flow.id, "method", { method: "signature" });
      return post(`/t/national/api/flows/${flow.id}`, { step: "credentials", customer_email: email, customer_password: WRONG, privacy_consent: true });
    };
    const known = await attempts(TRIES, linking("negozio@example.it"));
    const unknown = await attempts(TRIES, linking("mai.cliente@example.it"));
    expectLockedAlike(known, unknown);
  });

  it("coming back to an identity request", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "dario@example.it", email: "dario@example.it", emailVerified: true });
    const resume = (email: string) => () => post("/t/national/api/flows", { kind: "enrolment", email, password: WRONG });
    const known = await attempts(TRIES, resume("dario@example.it"));
    const unknown = await attempts(TRIES, resume("nessuno@example.it"));
    expect(known.slice(0, 5).map((a) => a.slice(0, 2))).toEqual(Array(5).fill([401, "invalid_credentials"]));
    expect(unknown).toEqual(known);
    expect(known.at(-1)?.slice(0, 2)).toEqual([429, "locked"]);
  });
});
