import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAccount } from "../../src/identity/accounts.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { enrolmentClient, type FlowView, lastCodeTo, personalData } from "../helpers/enrolment.ts";

let t: TestApp;
let api: ReturnType<typeof enrolmentClient>;
let national: Tenant;
beforeEach(async () => {
  t = await testApp();
  api = enrolmentClient(t.app, "national", t.clock);
  national = (await findTenant(t.store.repos, "national"))!;
});
afterEach(async () => {
  await t.app.close();
  await t.store.close();
});

const lastCode = (to: string) => lastCodeTo(t, to);

/**
 * Everything a step could write, minus what a refused step may change on purpose: attempt
 * counters, a fresh captcha challenge, and the data remembered to fill the form again.
 */
async function snapshot() {
  const db = t.store.db;
  const flows = await db.selectFrom("flows").select(["id", "state", "step", "account_id", "expires_at", "data"]).orderBy("id").execute();
  return {
    flows: flows.map(({ data, ...f }) => {
      const { captcha: _c, personal: _p, ...rest } = JSON.parse(data) as Record<string, unknown>;
      return { ...f, data: rest };
    }),
    accounts: await db.selectFrom("accounts").selectAll().orderBy("id").execute(),
    passwords: await db.selectFrom("passwords").select(["account_id", "set_at"]).execute(),
    consents: await db.selectFrom("consents").selectAll().execute(),
    answers: await db.selectFrom("security_answers").select(["account_id", "question"]).execute(),
    otp: (await db.selectFrom("otp_codes").select(["id", "purpose", "used_at"]).execute()).length,
    outbox: (await db.selectFrom("outbox").select("id").execute()).length,
    audit: (await db.selectFrom("audit_entries").select("seq").execute()).length,
  };
}

/**
 * Submits, expects 400 with exactly these error codes on these fields, and nothing written but
 * the audit entries `audited` names (a check that showed an identifier taken is audited).
 */
async function refused(flow: FlowView, step: string, values: Record<string, unknown>, expected: [string, string][], audited: string[] = []) {
  const before = await snapshot();
  const { status, body } = await api.submit(flow.id, step, values);
  expect(status, JSON.stringify(body)).toBe(400);
  expect(body).toMatchObject({ error: "validation_failed", step });
  expect(body.errors!.map((e) => [e.field, e.code])).toEqual(expected);
  for (const e of body.errors!) expect(e.message).not.toBe(e.code);
  expect(await snapshot()).toEqual({ ...before, audit: before.audit + audited.length });
  const added = await t.store.db.selectFrom("audit_entries").select("type").orderBy("seq", "desc").limit(audited.length).execute();
  expect(added.map((a) => a.type).reverse()).toEqual(audited);
  return body;
}

/** Valid credentials, with the flow's current captcha solved (each refusal issues a new one). */
const validCredentials = async (flow: FlowView, email = "giulia.bianchi@example.it") => ({
  email,
  password: "Correct-Horse-42!",
  privacy_consent: true,
  captcha: await api.captchaFor(await api.get(flow.id)),
});

/** A flow at `step`, taken there with valid data. */
async function flowAt(step: string): Promise<FlowView> {
  let flow = await api.start();
  if (step === "method") return flow;
  flow = await api.ok(flow.id, "method", { method: "video" });
  if (step === "credentials") return flow;
  flow = await api.ok(flow.id, "credentials", await validCredentials(flow));
  if (step === "email_confirmation") return flow;
  flow = await api.ok(flow.id, "email_confirmation", { code: await lastCode("giulia.bianchi@example.it") });
  if (step === "security") return flow;
  flow = await api.ok(flow.id, "security", { question: "first_pet", answer: "Fido", mobile: "+393331112222" });
  if (step === "mobile_confirmation") return flow;
  flow = await api.ok(flow.id, "mobile_confirmation", { code: await lastCode("+393331112222") });
  if (step === "personal_data") return flow;
  flow = await api.ok(flow.id, "personal_data", personalData);
  return flow;
}

describe("step 1, identification method", () => {
  it("refuses an unknown method, and in person without a valid point", async () => {
    const flow = await flowAt("method");
    await refused(flow, "method", { method: "fax" }, [["method", "invalid.invalid_value"]]);
    await refused(flow, "method", { method: "in_person" }, [["point", "enrol.point_required"]]);
    await refused(flow, "method", { method: "in_person", point: "atlantis" }, [["point", "enrol.point_unknown"]]);
  });
});

describe("step 2, credentials", () => {
  it("refuses a malformed or missing e-mail address", async () => {
    const flow = await flowAt("credentials");
    await refused(flow, "credentials", { ...(await validCredentials(flow)), email: "giulia@" }, [["email", "identifier.invalid_email"]]);
    await refused(flow, "credentials", { ...(await validCredentials(flow)), email: "" }, [["email", "enrol.required"]]);
  });

  it("refuses an e-mail address already used as a user ID", async () => {
    await createAccount(t.deps, national, { identifier: "taken@example.it", state: "active", email: "taken@example.it" }, { actor: "test" });
    const flow = await flowAt("credentials");
    await refused(flow, "credentials", await validCredentials(flow, "Taken@Example.it"), [["email", "account.identifier_taken"]], ["identifier.taken_shown"]);
  });

  it.each([
    ["Ab1!xyz", ["password.min_length"]],
    ["abcdefg1!", ["password.uppercase"]],
    ["ABCDEFG1!", ["password.lowercase"]],
    ["Abcdefgh!", ["password.digit"]],
    ["Abcdefgh1", ["password.special"]],
    ["Abc-aaa-123", ["password.repeated"]],
    ["Password1!", ["password.common"]],
    ["Giulia-Verde-9!", ["password.personal_data"]],
    ["aaa", ["password.min_length", "password.uppercase", "password.digit", "password.special", "password.repeated"]],
  ])("refuses the password %s: %j", async (password, rules) => {
    const flow = await flowAt("credentials");
    await refused(flow, "credentials", { ...(await validCredentials(flow)), password }, rules.map((r) => ["password", r]));
  });

  // Four captchas solved by proof of work, each of random cost: 9 to 23 s alone, more under the full suite.
  it("needs the privacy consent and a solved captcha, which counts once", { timeout: 120_000 }, async () => {
    const flow = await flowAt("credentials");
    await refused(flow, "credentials", { ...(await validCredentials(flow)), privacy_consent: false }, [["privacy_consent", "enrol.privacy_required"]]);
    // After a refusal the challenge is new: the old solution no longer counts.
    const stale = await api.captchaFor(flow);
    await refused(flow, "credentials", { ...(await validCredentials(flow)), email: "" }, [["email", "enrol.required"]]);
    const fresh = await api.get(flow.id);
    await refused(fresh, "credentials", { ...(await validCredentials(fresh)), captcha: stale }, [["captcha", "enrol.captcha_failed"]]);
    const again = await api.get(flow.id);
    await refused(again, "credentials", { ...(await validCredentials(again)), captcha: "bm90IGEgc29sdXRpb24=" }, [["captcha", "enrol.captcha_failed"]]);
    await refused(again, "credentials", { ...(await validCredentials(again)), captcha: undefined }, [["captcha", "enrol.captcha_failed"]]);
  });

  it("answers a wrong shop password without telling whether the shop account exists", async () => {
    await createAccount(t.deps, national, { identifier: "shop@example.it", kind: "customer", state: "active", email: "shop@example.it" }, { actor: "test" });
    const flow = await flowAt("credentials");
    for (const customer_email of ["shop@example.it", "nobody@example.it"]) {
      const body = await refused(flow, "credentials", { customer_email, customer_password: "whatever", privacy_consent: true }, [["customer_password", "login.invalid_credentials"]]);
      expect(body.errors![0]!.message).toBe("Identificativo o password non corretti.");
    }
  });
});

describe("steps 3 and 5, codes", () => {
  it("refuses a missing, wrong or expired e-mail code, and a code sent again too soon", async () => {
    const flow = await flowAt("email_confirmation");
    await refused(flow, "email_confirmation", {}, [["code", "enrol.required"]]);
    const code = await lastCode("giulia.bianchi@example.it");
    const wrong = code === "000000" ? "111111" : "000000";
    const { status, body } = await api.submit(flow.id, "email_confirmation", { code: wrong });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ field: "code", code: "otp.invalid", message: "Il codice non è corretto. Tentativi rimasti: 4." }]);
    await refused(flow, "email_confirmation", { resend: true }, [["code", "otp.resend_too_soon"]]);
    t.clock.advance(61 * 60_000);
    await refused(flow, "email_confirmation", { code }, [["code", "otp.expired"]]);
  });

  it("refuses a code once its five attempts are spent, and a code used already", async () => {
    const flow = await flowAt("mobile_confirmation");
    const code = await lastCode("+393331112222");
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++) await api.submit(flow.id, "mobile_confirmation", { code: wrong });
    await refused(flow, "mobile_confirmation", { code }, [["code", "otp.exhausted"]]);
    // A new code can be asked for, and then it works once; sent again, the step is over.
    t.clock.advance(61_000);
    await api.ok(flow.id, "mobile_confirmation", { resend: true });
    const fresh = await lastCode("+393331112222");
    await api.ok(flow.id, "mobile_confirmation", { code: fresh });
    const reused = await api.submit(flow.id, "mobile_confirmation", { code: fresh });
    expect(reused).toMatchObject({ status: 409, body: { error: "wrong_step", step: "personal_data" } });
  });
});

describe("step 4, security", () => {
  it("refuses an unknown question, a short answer and a number that is not a mobile", async () => {
    const flow = await flowAt("security");
    const ok = { question: "first_pet", answer: "Fido", mobile: "+393331112222" };
    await refused(flow, "security", { ...ok, question: "favourite_colour" }, [["question", "security_question.unknown"]]);
    await refused(flow, "security", { ...ok, answer: "Fi" }, [["answer", "security_question.answer_too_short"]]);
    await refused(flow, "security", { ...ok, mobile: "333" }, [["mobile", "phone.invalid"]]);
    // An Italian landline (Rome, 06) is not a mobile number.
    await refused(flow, "security", { ...ok, mobile: "+39 06 1234 5678" }, [["mobile", "phone.invalid"]]);
  });
});

describe("step 6, personal data", () => {
  it.each([
    ["fiscal_code", "RSSMRA80A01H501", "fiscal_code.format"],
    ["fiscal_code", "BNCGLI90E55F205X", "fiscal_code.check_character"],
    ["fiscal_code", "RSSMRA80A01H501U", "fiscal_code.mismatch"],
    ["document_expiry_date", "2024-01-01", "document.expired"],
    ["document_issue_date", "2027-01-01", "document.issued_in_future"],
    ["health_card_number", "12345", "health_card.invalid"],
    ["health_card_expiry", "2025-01-01", "health_card.expired"],
    ["birth_place", "Atlantide", "enrol.birth_place_unknown"],
    ["birth_place", "Peglio", "enrol.birth_place_ambiguous"],
    ["birth_place", "Mappano", "enrol.birth_place_not_at_date"],
    ["birth_date", "2031-01-01", "enrol.birth_date_range"],
    ["birth_date", "1990-02-30", "enrol.invalid_date"],
    ["sex", "X", "enrol.invalid_sex"],
    ["given_name", "G1ulia", "enrol.invalid_name"],
    ["postal_code", "2012", "address.postal_code"],
    ["province", "MIL", "address.province"],
    ["document_type", "library_card", "document.type_unknown"],
    ["document_number", "AB!", "document.number_invalid"],
    ["given_name", "", "enrol.required"],
  ])("refuses %s = %s (%s)", async (field, value, code) => {
    const flow = await flowAt("personal_data");
    const expected: [string, string][] = [[field, code]];
    // Data the codice fiscale depends on, when wrong, also make it impossible to check: then only their own error.
    await refused(flow, "personal_data", { ...personalData, [field]: value }, expected);
  });

  it("names the data a codice fiscale contradicts", async () => {
    const flow = await flowAt("personal_data");
    const body = await refused(flow, "personal_data", { ...personalData, sex: "M", birth_date: "1990-05-16" }, [["fiscal_code", "fiscal_code.mismatch"]]);
    expect(body.errors![0]!.message).toBe("Il codice fiscale non corrisponde a: Data di nascita, Sesso.");
  });

  it("refuses an expiry date before the issue date", async () => {
    const flow = await flowAt("personal_data");
    await refused(flow, "personal_data", { ...personalData, document_issue_date: "2030-01-01", document_expiry_date: "2029-01-01" }, [
      ["document_issue_date", "document.issued_in_future"],
      ["document_expiry_date", "document.expiry_before_issue"],
    ]);
    await refused(flow, "personal_data", { ...personalData, document_issue_date: "2026-01-01", document_expiry_date: "2025-12-31" }, [
      ["document_expiry_date", "document.expired"],
    ]);
  });

  it("refuses a codice fiscale that already has an identity", async () => {
    await createAccount(t.deps, national, { identifier: "other@example.it", state: "active", fiscalCode: "BNCGLI90E55F205D" }, { actor: "test" });
    const flow = await flowAt("personal_data");
    await refused(flow, "personal_data", personalData, [["fiscal_code", "fiscal_code.taken"]], ["identifier.taken_shown"]);
  });

  it("accepts a place by Belfiore code, a name with its province, and a foreign country", async () => {
    const flow = await flowAt("personal_data");
    for (const [place, fiscal] of [["F205", "BNCGLI90E55F205D"], ["Milano (MI)", "BNCGLI90E55F205D"]]) {
      const { status } = await api.submit(flow.id, "personal_data", { ...personalData, birth_place: place, fiscal_code: fiscal });
      expect(status).toBe(200);
      await api.submit(flow.id, "personal_data", { ...personalData });
    }
  });
});

describe("step 7, summary", () => {
  it("needs the contract accepted", async () => {
    const flow = await flowAt("summary");
    await refused(flow, "summary", {}, [["contract_accepted", "enrol.contract_required"]]);
  });
});

describe("flows", () => {
  it("say clearly when a step is not the current one, or the flow does not exist", async () => {
    const flow = await flowAt("credentials");
    const early = await api.submit(flow.id, "summary", { contract_accepted: true });
    expect(early).toMatchObject({ status: 409, body: { error: "wrong_step", step: "credentials" } });
    expect(early.body).toHaveProperty("error_description", 'Questo passo non è quello corrente; la richiesta è al passo "credentials".');
    const unknownStep = await api.submit(flow.id, "teleport", {});
    expect(unknownStep.status).toBe(409);
    const missing = await api.submit("no-such-flow", "method", { method: "video" });
    expect(missing).toMatchObject({ status: 404, body: { error: "not_found" } });
    const noKind = await t.app.inject({ method: "POST", url: "/t/pro/api/flows", payload: { kind: "enrolment" } });
    expect(noKind.statusCode).toBe(404);
  });

  it("lets the method be changed from the credentials step", async () => {
    const flow = await flowAt("credentials");
    const back = await api.ok(flow.id, "method", { method: "cie" });
    expect(back.step).toBe("credentials");
  });

  it("expire: an anonymous flow after an hour, a request after 30 days", async () => {
    const anonymous = await flowAt("credentials");
    t.clock.advance(61 * 60_000);
    expect((await api.submit(anonymous.id, "credentials", {})).status).toBe(410);
    const request = await flowAt("security");
    t.clock.advance(29 * 86_400_000);
    expect((await api.get(request.id)).step).toBe("security");
    t.clock.advance(2 * 86_400_000);
    expect((await t.app.inject(`/t/national/api/flows/${request.id}`)).statusCode).toBe(410);
  });

  it("refuse a submitted request", async () => {
    const flow = await flowAt("summary");
    await api.ok(flow.id, "summary", { contract_accepted: true });
    expect(await api.submit(flow.id, "summary", { contract_accepted: true })).toMatchObject({ status: 409, body: { error: "flow_finished" } });
  });
});
