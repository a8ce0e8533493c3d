import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { findAccountByIdentifier } from "../../src/identity/accounts.ts";
import { createAccountWithCodicePersona } from "../../src/identity/codice-persona.ts";
import { verifyPassword } from "../../src/identity/password/service.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import { openStore } from "../../src/store/db.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { purgeExpired } from "../../src/jobs/maintenance.ts";
import { ensureTenants, findTenant, listTenants } from "../../src/tenants/service.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { solveCaptcha } from "../helpers/captcha.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { type FlowBody, flowClient } from "../helpers/flows.ts";
import { withCheapHashing } from "../helpers/identity.ts";
import { fakeClock, freshPgSchemaUrl, pgUrl } from "../helpers/stores.ts";

/**
 * "Registrati" (seed 001): anyone opens a local account at the university, is assigned the next
 * codice persona and chooses a password; the e-mail address is confirmed by link or code.
 */
let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const PASSWORD = "Politecnico-Blu-2026";
const giulia = { given_name: "Giulia", family_name: "Bianchi", email: "giulia.bianchi@example.it", fiscal_code: "BNCGLI90E55F205D" };

async function details(flow: FlowBody, values: Record<string, unknown>) {
  const challenge = flow.fields.find((f) => f.name === "captcha")!.challenge as Parameters<typeof solveCaptcha>[0];
  return { password: PASSWORD, privacy_consent: true, captcha: await solveCaptcha(challenge), ...values };
}

async function register(api: ReturnType<typeof flowClient>, citizenship: "italian" | "other", values: Record<string, unknown>) {
  const started = await api.started({ kind: "registration" });
  const flow = await api.ok(started.id, "citizenship", { citizenship });
  return { id: started.id, reply: await api.submit(started.id, "details", await details(flow, values)) };
}

describe("registration (university)", () => {
  it("assigns the next codice persona, confirms the address by code, and the account signs in", async () => {
    t = await testApp();
    const api = flowClient(t.app, "university");
    const started = await api.started({ kind: "registration" });
    expect(started.fields).toMatchObject([{ name: "citizenship", options: [{ value: "italian" }, { value: "other" }] }]);
    const flow = await api.ok(started.id, "citizenship", { citizenship: "italian" });
    expect(flow.step).toBe("details");
    expect(flow.fields.map((f) => f.name)).toEqual(["given_name", "family_name", "email", "fiscal_code", "password", "privacy_consent", "captcha"]);

    const confirming = await api.ok(flow.id, "details", await details(flow, giulia));
    expect(confirming).toMatchObject({ step: "email_confirmation", notice: { code: "enrol.email_sent" } });
    const code = await lastCodeTo(t, giulia.email, "university");
    t.clock.advance(1000);
    const done = await api.ok(flow.id, "email_confirmation", { code });
    expect(done).toMatchObject({ state: "complete", step: null, result: { codice_persona: "10000001" } });

    const tenant = (await findTenant(t.store.repos, "university"))!;
    const account = (await findAccountByIdentifier(t.deps, tenant, "10000001"))!;
    expect(account).toMatchObject({ state: "active", givenName: "Giulia", fiscalCode: "BNCGLI90E55F205D", fiscalCodeVerifiedAt: null, citizenship: "italian" });
    expect(account.emailVerifiedAt).not.toBeNull();
    expect(await verifyPassword(t.deps, tenant, account, PASSWORD)).toMatchObject({ ok: true });
    const welcome = await lastMessageTo(t, giulia.email, "university");
    expect(welcome.subject).toContain("10000001");

    // The next one gets the next number; a person without Italian citizenship gives no codice fiscale.
    const other = await register(api, "other", { given_name: "Amira", family_name: "Haddad", email: "amira@example.org" });
    expect(other.reply.status, JSON.stringify(other.reply.body)).toBe(200);
    const second = await api.ok(other.id, "email_confirmation", { code: await lastCodeTo(t, "amira@example.org", "university") });
    expect(second.result).toEqual({ codice_persona: "10000002" });
    expect(await findAccountByIdentifier(t.deps, tenant, "10000002")).toMatchObject({ citizenship: "other", fiscalCode: null });
  });

  it("refuses what is wrong, all at once, writing nothing, and says a codice fiscale is taken only once the rest is right", async () => {
    t = await testApp();
    const api = flowClient(t.app, "university");
    const wrong = await register(api, "italian", { ...giulia, fiscal_code: "RSSMRA80A01H501U", email: "giulia@", password: "short" });
    expect(wrong.reply.status).toBe(400);
    const codes = wrong.reply.body.errors!.map((e) => [e.field, e.code]);
    expect(codes).toContainEqual(["fiscal_code", "fiscal_code.mismatch"]);
    expect(codes).toContainEqual(["email", "identifier.invalid_email"]);
    expect(codes).toContainEqual(["password", "password.min_length"]);
    expect(await t.store.db.selectFrom("accounts").selectAll().execute()).toEqual([]);

    const first = await register(api, "italian", giulia);
    expect(first.reply.status).toBe(200);
    const again = await register(api, "italian", { ...giulia, email: "altra@example.it" });
    expect(again.reply.body.errors).toMatchObject([{ field: "fiscal_code", code: "fiscal_code.taken" }]);
    expect(await t.store.db.selectFrom("audit_entries").select("type").where("type", "=", "identifier.taken_shown").execute()).toHaveLength(1);
  });

  it("forgets a registration never confirmed once its link has lapsed, and with it the codice fiscale it held", async () => {
    t = await testApp();
    const api = flowClient(t.app, "university");
    expect((await register(api, "italian", giulia)).reply.status).toBe(200);
    const tenants = await listTenants(t.store.repos);
    await purgeExpired(t.store.repos, t.clock, tenants);
    expect(await t.store.repos.accounts.findByFiscalCode("university", "identity", giulia.fiscal_code)).toBeDefined();
    t.clock.advance(24 * 3_600_000 + 1);
    await purgeExpired(t.store.repos, t.clock, tenants);
    expect(await t.store.repos.accounts.findByFiscalCode("university", "identity", giulia.fiscal_code)).toBeUndefined();
    // The number is not handed out again: the next registration gets the next one.
    const again = await register(api, "italian", giulia);
    await api.ok(again.id, "email_confirmation", { code: await lastCodeTo(t, giulia.email, "university") });
    expect((await findAccountByIdentifier(t.deps, (await findTenant(t.store.repos, "university"))!, "10000002"))?.fiscalCode).toBe(giulia.fiscal_code);
  });

  it("is there only where the tenant opens it", async () => {
    t = await testApp();
    expect((await flowClient(t.app, "pro").start({ kind: "registration" })).status).toBe(404);
    expect((await t.app.inject({ method: "GET", url: "/t/pro/register", headers: { accept: "text/html" } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: "GET", url: "/t/university/register", headers: { accept: "text/html" } })).statusCode).toBe(200);
  });
});

describe.skipIf(!pgUrl)("codice persona under two nodes (postgres)", () => {
  it("hands out every number once, in sequence, to registrations racing on two nodes", async () => {
    const url = await freshPgSchemaUrl();
    const [a, b] = [openStore(url), openStore(url)];
    try {
      await a.migrate();
      await ensureTenants(a, fakeClock(), demoTenants.map(withCheapHashing), { actor: "test" });
      const tenant = (await findTenant(a.repos, "university"))!;
      const secrets = createSecrets(randomBytes(32));
      const make = (store: typeof a, n: number) =>
        store.transaction((repos) => createAccountWithCodicePersona({ repos, clock: fakeClock(), secrets }, tenant, { state: "active", email: `p${n}@example.it` }, { actor: "test" }));
      const made = await Promise.all(Array.from({ length: 30 }, (_, n) => make(n % 2 ? a : b, n)));
      const numbers = made.map((m) => Number(m.identifier)).sort((x, y) => x - y);
      expect(numbers).toEqual(Array.from({ length: 30 }, (_, i) => 10_000_001 + i));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
