import { afterEach, describe, expect, it } from "vitest";
import { type TestApp, testApp } from "../helpers/app.ts";
import { enrolmentClient, lastMessageTo, personalData } from "../helpers/enrolment.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const lastMessage = (to: string) => lastMessageTo(t, to);
const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)![1]!;

describe("SPID identity request through the JSON API", () => {
  it("goes from the method to awaiting proofing", async () => {
    t = await testApp();
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await api.start();
    expect(flow).toMatchObject({ state: "active", step: "method" });
    expect(flow.fields.find((f) => f.name === "method")).toMatchObject({ type: "radio" });

    flow = await api.ok(flow.id, "method", { method: "in_person", point: "milano-duomo" });
    expect(flow.step).toBe("credentials");

    flow = await api.ok(flow.id, "credentials", {
      email: "Giulia.Bianchi@example.it",
      password: "Correct-Horse-42!",
      privacy_consent: true,
      marketing_consent: false,
      captcha: await api.captchaFor(flow),
    });
    expect(flow).toMatchObject({ step: "email_confirmation", notice: { code: "enrol.email_sent" } });
    const mail = await lastMessage("giulia.bianchi@example.it");
    expect(mail.subject).toBe("Tessera ID: conferma il tuo indirizzo e-mail");
    expect(mail.text).toContain(`/t/national/enrol/${flow.id}/confirm-email?code=`);

    flow = await api.ok(flow.id, "email_confirmation", { code: codeIn(mail.text) });
    expect(flow.step).toBe("security");

    flow = await api.ok(flow.id, "security", { question: "first_pet", answer: "Fido", mobile: "+39 333 765 4321" });
    expect(flow).toMatchObject({ step: "mobile_confirmation", notice: { code: "enrol.sms_sent" } });
    const sms = await lastMessage("+393337654321");

    flow = await api.ok(flow.id, "mobile_confirmation", { code: codeIn(sms.text) });
    expect(flow.step).toBe("personal_data");

    flow = await api.ok(flow.id, "personal_data", personalData);
    expect(flow.step).toBe("summary");

    flow = await api.ok(flow.id, "summary", { contract_accepted: true });
    expect(flow).toMatchObject({ state: "awaiting_proofing", step: null, fields: [] });
    expect(flow.result?.request).toMatch(/^[0-9A-F]{10}$/);
    expect(flow.result?.next_steps).toContain("Tessera Point Milano Duomo");

    const account = await t.store.repos.accounts.findByIdentifier("national", "identity", "giulia.bianchi@example.it");
    expect(account).toMatchObject({
      state: "awaiting_proofing",
      phone: "+393337654321",
      fiscal_code: "BNCGLI90E55F205D",
      birth_place: "F205",
      county_of_birth: "MI",
      identification_method: "in_person",
      registration_point: "milano-duomo",
    });
    expect(account!.email_verified_at).not.toBeNull();
    expect(account!.phone_verified_at).not.toBeNull();
    const consents = await t.store.repos.consents.of(account!.id);
    expect(consents.map((c) => [c.purpose, c.granted, c.version])).toEqual([
      ["marketing", 0, "2026-01"],
      ["privacy", 1, "2026-01"],
      ["contract", 1, "2026-01"],
    ]);
    const submitted = await lastMessage("giulia.bianchi@example.it");
    expect(submitted.subject).toBe(`Tessera ID: abbiamo ricevuto la tua richiesta di identità ${flow.result!.request}`);
    expect(submitted.text).toContain("Tessera Point Milano Duomo");

    const audit = (await t.store.repos.audit.page("national", 0, 200)).map((e) => e.type);
    for (const step of ["method", "credentials", "email_confirmation", "security", "mobile_confirmation", "personal_data", "summary"]) {
      expect(audit).toContain(`enrolment.${step}`);
    }
  });
});
