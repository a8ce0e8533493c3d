import { afterEach, describe, expect, it } from "vitest";
import { createAccount } from "../../src/identity/accounts.ts";
import { ensureDecoyHashes } from "../../src/identity/password/decoy.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { createTenant, findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { solveCaptcha } from "../helpers/captcha.ts";
import { type FlowView, lastCodeTo, personalData } from "../helpers/enrolment.ts";
import { flowClient, member, signInL1 } from "../helpers/flows.ts";
import { withCheapHashing } from "../helpers/identity.ts";

/**
 * Issue 21: where the seed shows on purpose that an identifier is taken (the e-mail address
 * chosen as SPID user ID, a codice fiscale that has an identity, a new user ID in the panel),
 * the check is said only to a submission right in every other way, is limited per flow and per
 * client address, and every "taken" answer is in the audit log.
 */
let t: TestApp;
let tenant: Tenant;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

/** The national tenant as `probe`, with low limits and cheap captchas, so that tests reach them quickly. */
async function setup() {
  t = await testApp();
  const national = withCheapHashing(demoTenants.find((d) => d.id === "national")!);
  const policy = national.policy!;
  await createTenant(
    t.store,
    t.clock,
    { ...national, id: "probe", policy: { ...policy, lockout: { identifierChecksPerFlow: 2, identifierChecksPerIp: 3 }, enrolment: { ...policy.enrolment!, captchaMaxNumber: 1000 } } },
    { actor: "test" },
  );
  await ensureDecoyHashes(t.store.repos, [(await findTenant(t.store.repos, "probe"))!]);
  tenant = (await findTenant(t.store.repos, "probe"))!;
  const holder = await createAccount(t.deps, tenant, { identifier: "taken@example.it", state: "active", email: "taken@example.it" }, { actor: "test" });
  return { holder };
}

interface Reply {
  status: number;
  body: FlowView & { errors?: { field: string; code: string; message: string }[] };
}

async function submit(id: string, values: Record<string, unknown>, ip = "203.0.113.7"): Promise<Reply> {
  t.clock.advance(5000);
  const res = await t.app.inject({ method: "POST", url: `/t/probe/api/flows/${id}`, payload: values, remoteAddress: ip, headers: { "accept-language": "en" } });
  return { status: res.statusCode, body: res.json() };
}

async function credentialsStep(ip = "203.0.113.7"): Promise<FlowView> {
  const res = await t.app.inject({ method: "POST", url: "/t/probe/api/flows", payload: { kind: "enrolment" }, remoteAddress: ip });
  const flow = res.json<FlowView>();
  return (await submit(flow.id, { step: "method", method: "video" }, ip)).body;
}

/** The credentials of a new customer, everything right, the flow's current captcha solved. */
async function credentials(flow: FlowView, email: string, extra: Record<string, unknown> = {}) {
  const view = (await t.app.inject({ method: "GET", url: `/t/probe/api/flows/${flow.id}` })).json<FlowView>();
  const challenge = view.fields.find((f) => f.name === "captcha")!.challenge!;
  return { step: "credentials", email, password: "Correct-Horse-42!", privacy_consent: true, captcha: await solveCaptcha(challenge), ...extra };
}

const codes = (r: Reply) => (r.body.errors ?? []).map((e) => e.code);
const audited = async (type: string) => t.store.db.selectFrom("audit_entries").selectAll().where("type", "=", type).orderBy("seq").execute();

describe('"already in use" answers (issue 21)', () => {
  it("are given only to a submission right in every other way, captcha solved, and audited", async () => {
    const { holder } = await setup();
    const flow = await credentialsStep();
    // Without a solved captcha, or with a weak password, nothing is said of the address.
    expect(codes(await submit(flow.id, await credentials(flow, "taken@example.it", { captcha: "bm90IGEgc29sdXRpb24=" })))).toEqual(["enrol.captcha_failed"]);
    expect(codes(await submit(flow.id, await credentials(flow, "taken@example.it", { password: "weak" })))).not.toContain("account.identifier_taken");
    expect(await audited("identifier.taken_shown")).toEqual([]);

    const taken = await submit(flow.id, await credentials(flow, "Taken@Example.it"));
    expect(taken.status).toBe(400);
    expect(codes(taken)).toEqual(["account.identifier_taken"]);
    expect(await audited("identifier.taken_shown")).toMatchObject([{ subject: holder.id, ip: "203.0.113.7", data: expect.stringContaining('"field":"email"') }]);
  });

  it("are limited per flow: past the limit the check is refused before anything is looked up", async () => {
    await setup();
    const flow = await credentialsStep();
    // Refusals that stop before the check (a weak password) do not use the allowance up.
    for (let i = 0; i < 3; i++) expect(codes(await submit(flow.id, await credentials(flow, "taken@example.it", { password: "weak" })))).not.toContain("identifier.checks_exhausted");
    for (let i = 0; i < 2; i++) expect(codes(await submit(flow.id, await credentials(flow, "taken@example.it")))).toEqual(["account.identifier_taken"]);
    const refused = await submit(flow.id, await credentials(flow, "free@example.it"));
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: "email", code: "identifier.checks_exhausted", message: expect.stringMatching(/Try again in \d+ (minute|minutes)/) }]);
    // Nothing was written: no account for the free address.
    expect(await t.store.repos.accounts.findByIdentifier("probe", "identity", "free@example.it")).toBeUndefined();
    expect(await audited("identifier.taken_shown")).toHaveLength(2);
  });

  it("are limited per client address across flows, and not for another address", async () => {
    await setup();
    for (let i = 0; i < 3; i++) {
      const flow = await credentialsStep();
      expect(codes(await submit(flow.id, await credentials(flow, "taken@example.it")))).toEqual(["account.identifier_taken"]);
    }
    const fourth = await credentialsStep();
    expect(codes(await submit(fourth.id, await credentials(fourth, "taken@example.it")))).toEqual(["identifier.checks_exhausted"]);
    const elsewhere = await credentialsStep("198.51.100.9");
    expect(codes(await submit(elsewhere.id, await credentials(elsewhere, "taken@example.it"), "198.51.100.9"))).toEqual(["account.identifier_taken"]);
    // The window passes: the address may check again.
    t.clock.advance(15 * 60_000);
    const later = await credentialsStep();
    expect(codes(await submit(later.id, await credentials(later, "taken@example.it")))).toEqual(["account.identifier_taken"]);
  });

  it("for a codice fiscale at the personal-data step: said once the data are right, audited, limited", async () => {
    await setup();
    const other = await createAccount(t.deps, tenant, { identifier: "other@example.it", state: "active", fiscalCode: personalData.fiscal_code }, { actor: "test" });
    const flow = await credentialsStep();
    await submit(flow.id, await credentials(flow, "giulia@example.it"));
    await submit(flow.id, { step: "email_confirmation", code: await lastCodeTo(t, "giulia@example.it", "probe") });
    await submit(flow.id, { step: "security", question: "first_pet", answer: "Fido", mobile: "+393331112222" });
    expect((await submit(flow.id, { step: "mobile_confirmation", code: await lastCodeTo(t, "+393331112222", "probe") })).body.step).toBe("personal_data");

    // Another mistake in the form: the codice fiscale is not looked up.
    expect(codes(await submit(flow.id, { step: "personal_data", ...personalData, postal_code: "2012" }))).toEqual(["address.postal_code"]);
    // One check was booked by the credentials step; this flow has one left.
    expect(codes(await submit(flow.id, { step: "personal_data", ...personalData }))).toEqual(["fiscal_code.taken"]);
    expect(codes(await submit(flow.id, { step: "personal_data", ...personalData }))).toEqual(["identifier.checks_exhausted"]);
    expect(await audited("identifier.taken_shown")).toMatchObject([{ subject: other.id, data: expect.stringContaining('"field":"fiscal_code"') }]);
  });

  it("for a new user ID in the self-service panel: audited and limited", async () => {
    await setup();
    await member(t, "probe", { identifier: "me@example.it", email: "me@example.it", emailVerified: true });
    const token = await signInL1(t.app, "probe", "me@example.it");
    const api = flowClient(t.app, "probe", token);
    const change = async () => (await api.started({ kind: "settings", action: "change_email" })).id;
    expect((await api.refused(await change(), "email", { value: "taken@example.it" })).code).toBe("account.identifier_taken");
    // A malformed address never reaches the check: not counted.
    expect((await api.refused(await change(), "email", { value: "not-an-address" })).code).toBe("identifier.invalid_email");
    expect((await api.refused(await change(), "email", { value: "taken@example.it" })).code).toBe("account.identifier_taken");
    expect((await api.refused(await change(), "email", { value: "taken@example.it" })).code).toBe("account.identifier_taken");
    expect((await api.refused(await change(), "email", { value: "free@example.it" })).code).toBe("identifier.checks_exhausted");
    expect(await audited("identifier.taken_shown")).toHaveLength(3);
  });
});
