import { afterEach, describe, expect, it } from "vitest";
import { findAccount } from "../../src/identity/accounts.ts";
import { latestCase } from "../../src/flows/proofing/cases.ts";
import { purgeExpired } from "../../src/jobs/maintenance.ts";
import { findTenant, listTenants } from "../../src/tenants/service.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { applicant, GIULIA, JPEG, multipart, PNG, sessionCookie, staff } from "../helpers/proofing.ts";
import { updatePolicy } from "../helpers/tenants.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

const ORIGIN = { origin: "http://localhost" };
const ALL_CHECKS = ["face_matches_document", "document_original", "health_card_original", "data_read_back"];
/** What the officer reads off Giulia's documents: what she declared. */
const READ = {
  decision: "approve",
  document_type: "carta_identita",
  document_number: "CA12345GB",
  document_issuer: "Comune di Milano",
  document_issue_date: "2022-03-01",
  document_expiry_date: "2032-03-01",
  health_card_number: "80380000001234567890",
  health_card_expiry: "2030-12-31",
  checks: ALL_CHECKS,
};

const stateOf = async (accountId: string) => (await findAccount(t!.deps, (await latestTenant())!, accountId))!.state;
const latestTenant = () => findTenant(t!.store.repos, "national");

describe("the operator console: identification in person", () => {
  it("lets the officer of the applicant's point find the request, record the document and its photos, and approve: the identity is active", async () => {
    t = await testApp({ clockStart: Date.now() });
    const who = await applicant(t, "in_person", { point: "roma-corso" });
    const officer = await staff(t, "sportello@example.it", [{ role: "registration_officer", point: "roma-corso" }]);
    const get = (url: string) => t!.app.inject({ url, headers: { cookie: officer.cookie, accept: "text/html" } });

    const dashboard = await get("/t/national/operator");
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain(who.proofing.request);
    const found = await get(`/t/national/operator?q=${GIULIA.fiscalCode}`);
    expect(found.body).toContain(`/t/national/operator/cases/${who.proofing.id}`);
    const page = await get(`/t/national/operator/cases/${who.proofing.id}`);
    expect(page.statusCode).toBe(200);
    for (const declared of ["BNCGLI90E55F205D", "CA12345GB", "80380000001234567890"]) expect(page.body).toContain(declared);

    const form = multipart(READ, { document_front: { name: "front.png", type: "image/png", content: PNG }, document_back: { name: "back.jpg", type: "image/jpeg", content: JPEG } });
    const decided = await t.app.inject({ method: "POST", url: `/t/national/operator/cases/${who.proofing.id}/in-person`, headers: { ...form.headers, cookie: officer.cookie, ...ORIGIN }, payload: form.payload });
    expect(decided.statusCode, decided.body).toBe(303);
    const account = (await findAccount(t.deps, (await latestTenant())!, who.account.id))!;
    expect(account.state).toBe("active");
    expect(account.spidCode).toMatch(/^TESS\d{10}$/);
    expect((await lastMessageTo(t, GIULIA.email!)).text).toContain(account.spidCode!);
    const proofing = (await latestCase(t.deps, (await latestTenant())!, who.account.id))!;
    expect(proofing).toMatchObject({ state: "approved", decidedBy: officer.account.id, data: { document: { number: "CA12345GB" }, checks: ALL_CHECKS } });

    // The evidence: both photos, kept by hash until the retention period ends; a download is logged.
    const evidence = await t.store.repos.proofing.evidenceOf("national", proofing.id);
    expect(evidence.map((e) => [e.kind, e.media_type])).toEqual([["document_front", "image/png"], ["document_back", "image/jpeg"]]);
    const twentyYears = 20 * 365 * 86_400_000;
    for (const e of evidence) expect(e.retain_until! - t.clock.now()).toBeGreaterThan(twentyYears);
    const download = await get(`/t/national/operator/cases/${proofing.id}/evidence/${evidence[0]!.id}`);
    expect(download.statusCode).toBe(200);
    expect(Buffer.from(download.rawPayload).equals(PNG)).toBe(true);
    const viewed = await t.store.db.selectFrom("audit_entries").select(["actor", "data"]).where("type", "=", "proofing.evidence_viewed").execute();
    expect(viewed).toEqual([expect.objectContaining({ actor: `operator:${officer.account.id}` })]);
  });

  it("refuses a decision by an officer of another point, a photo that is not an image, and a document other than the one declared, writing nothing", async () => {
    t = await testApp({ clockStart: Date.now() });
    const who = await applicant(t, "in_person", { point: "roma-corso" });
    const milano = await staff(t, "milano@example.it", [{ role: "registration_officer", point: "milano-duomo" }]);
    const roma = await staff(t, "roma@example.it", [{ role: "registration_officer", point: "roma-corso" }]);
    const post = (cookie: string, fields: Record<string, string | string[]>, files = { document_front: { name: "f.png", type: "image/png", content: PNG }, document_back: { name: "b.png", type: "image/png", content: PNG } }) => {
      const form = multipart(fields, files);
      return t!.app.inject({ method: "POST", url: `/t/national/operator/cases/${who.proofing.id}/in-person`, headers: { ...form.headers, cookie, ...ORIGIN, accept: "text/html", "accept-language": "en" }, payload: form.payload });
    };
    expect((await post(milano.cookie, READ)).statusCode).toBe(403);
    expect((await t.app.inject({ url: `/t/national/operator/cases/${who.proofing.id}`, headers: { cookie: milano.cookie } })).statusCode).toBe(403);
    expect((await t.app.inject({ url: "/t/national/operator", headers: { cookie: milano.cookie, accept: "text/html" } })).body).not.toContain(who.proofing.request);

    const notImage = await post(roma.cookie, READ, { document_front: { name: "front.png", type: "image/png", content: Buffer.from("%PDF-1.7 a pdf, named .png") }, document_back: { name: "b.png", type: "image/png", content: PNG } });
    expect(notImage.statusCode).toBe(400);
    expect(notImage.body).toContain("document_front: the file is not a JPEG or PNG image.");

    const otherDocument = await post(roma.cookie, { ...READ, document_number: "ZZ99999ZZ" });
    expect(otherDocument.statusCode).toBe(400);
    expect(otherDocument.body).toContain("The document shown is not the one declared in the request");
    const unchecked = await post(roma.cookie, { ...READ, checks: ALL_CHECKS.slice(1) });
    expect(unchecked.body).toContain("Every check must be done before approving.");

    expect(await stateOf(who.account.id)).toBe("awaiting_proofing");
    expect((await latestCase(t.deps, (await latestTenant())!, who.account.id))!.state).toBe("pending");
    expect(await t.store.repos.proofing.evidenceOf("national", who.proofing.id)).toEqual([]);

    // Rejecting says why to the applicant, and what to do next.
    const rejected = await post(roma.cookie, { decision: "reject", reason: "document_invalid", note: "documento deteriorato" });
    expect(rejected.statusCode).toBe(303);
    expect((await lastMessageTo(t, GIULIA.email!)).text).toContain("il documento d'identità non è valido");
    const panel = await t.app.inject({ url: "/t/national/account", headers: { cookie: await sessionCookie(t, who.account, 1), accept: "text/html" } });
    expect(panel.body).toContain("torna con un documento d&#39;identità valido, oppure scegli un altro metodo.");
    expect(panel.body).not.toContain("documento deteriorato");
  });

  it("with four eyes, waits for a supervisor other than the officer", async () => {
    t = await testApp({ clockStart: Date.now() });
    await updatePolicy(t.store, "national", (p) => {
      p.enrolment!.proofing = { ...p.enrolment!.proofing, fourEyes: true };
    });
    const who = await applicant(t, "in_person", { point: "roma-corso" });
    const officer = await staff(t, "roma@example.it", [{ role: "registration_officer", point: "roma-corso" }, { role: "supervisor", point: null }]);
    const supervisor = await staff(t, "capo@example.it", [{ role: "supervisor", point: null }]);
    const form = multipart(READ, { document_front: { name: "f.png", type: "image/png", content: PNG }, document_back: { name: "b.png", type: "image/png", content: PNG } });
    expect((await t.app.inject({ method: "POST", url: `/t/national/operator/cases/${who.proofing.id}/in-person`, headers: { ...form.headers, cookie: officer.cookie, ...ORIGIN }, payload: form.payload })).statusCode).toBe(303);
    expect(await stateOf(who.account.id)).toBe("awaiting_proofing");
    expect((await latestCase(t.deps, (await latestTenant())!, who.account.id))!.state).toBe("awaiting_confirmation");

    const confirm = (cookie: string) => t!.app.inject({ method: "POST", url: `/t/national/operator/cases/${who.proofing.id}/confirm`, headers: { cookie, ...ORIGIN, accept: "text/html" } });
    const own = await confirm(officer.cookie);
    expect(own.statusCode).toBe(403);
    expect(await stateOf(who.account.id)).toBe("awaiting_proofing");
    expect((await confirm(supervisor.cookie)).statusCode).toBe(303);
    expect(await stateOf(who.account.id)).toBe("active");
    expect((await latestCase(t.deps, (await latestTenant())!, who.account.id))).toMatchObject({ state: "approved", decidedBy: officer.account.id, confirmedBy: supervisor.account.id });
  });

  it("is for operators at level 2 only", async () => {
    t = await testApp({ clockStart: Date.now() });
    const who = await applicant(t, "in_person", { point: "roma-corso" });
    const citizen = await sessionCookie(t, who.account, 1);
    expect((await t.app.inject({ url: "/t/national/operator", headers: { cookie: citizen } })).statusCode).toBe(401);
    const levelOne = await staff(t, "roma@example.it", [{ role: "registration_officer", point: "roma-corso" }], 1);
    expect((await t.app.inject({ url: "/t/national/operator", headers: { cookie: levelOne.cookie } })).statusCode).toBe(401);
    const notStaff = await sessionCookie(t, who.account, 2);
    expect((await t.app.inject({ url: "/t/national/operator", headers: { cookie: notStaff } })).statusCode).toBe(403);
  });
});

describe("the operator console: video identification", () => {
  it("books a session from the panel; the video operator sends the code, hears it back, and approves with the session's evidence", async () => {
    t = await testApp({ clockStart: Date.UTC(2026, 11, 7, 8, 0) });
    const who = await applicant(t, "video");
    const video = await staff(t, "video@example.it", [{ role: "video_operator", point: null }]);
    const citizen = await sessionCookie(t, who.account, 1);
    const panel = await t.app.inject({ url: "/t/national/account", headers: { cookie: citizen, accept: "text/html" } });
    const slot = Number(/<option value="(\d+)">/.exec(panel.body)![1]);
    const booked = await t.app.inject({ method: "POST", url: "/t/national/account/proofing/video", headers: { cookie: citizen, ...ORIGIN }, payload: { slot: String(slot) } });
    expect(booked.statusCode, booked.body).toBe(303);
    expect(booked.headers.location).toBe("/t/national/account?notice=proofing.video.booked_notice");
    const proofing = (await latestCase(t.deps, (await latestTenant())!, who.account.id))!;
    expect(proofing.bookedAt).toBe(slot);

    const caseUrl = `/t/national/operator/cases/${proofing.id}`;
    const post = (path: string, payload: object) => t!.app.inject({ method: "POST", url: `${caseUrl}${path}`, headers: { cookie: video.cookie, ...ORIGIN, accept: "text/html", "accept-language": "en" }, payload });
    // Before the booked time, the session cannot start.
    expect((await post("/video/code", {})).statusCode).toBe(400);
    t.clock.advance(slot - t.clock.now());
    // At the booked time the operator signs in again (sessions lapse after 30 idle minutes).
    video.cookie = await sessionCookie(t, video.account, 2);
    expect((await post("/video/code", {})).statusCode).toBe(303);
    const code = await lastCodeTo(t, GIULIA.phone!);
    const wrong = await post("/video/confirm", { code: code === "000000" ? "111111" : "000000" });
    expect(wrong.statusCode).toBe(400);
    // Approving before the code is confirmed is refused.
    const early = multipart({ decision: "approve", checks: ["questions_answered", "document_front_shown", "document_back_shown", "health_card_shown", "recording_consented"] }, { video_snapshot: { name: "s.png", type: "image/png", content: PNG } });
    expect((await t.app.inject({ method: "POST", url: `${caseUrl}/video/decision`, headers: { ...early.headers, cookie: video.cookie, ...ORIGIN, accept: "text/html", "accept-language": "en" }, payload: early.payload })).body).toContain("Confirm first the code");
    expect((await post("/video/confirm", { code })).statusCode).toBe(303);
    const decision = multipart({ decision: "approve", checks: ["questions_answered", "document_front_shown", "document_back_shown", "health_card_shown", "recording_consented"] }, { video_recording: { name: "session.webm", type: "video/webm", content: Buffer.from("webm recording") } });
    const decided = await t.app.inject({ method: "POST", url: `${caseUrl}/video/decision`, headers: { ...decision.headers, cookie: video.cookie, ...ORIGIN }, payload: decision.payload });
    expect(decided.statusCode, decided.body).toBe(303);
    expect(await stateOf(who.account.id)).toBe("active");
    const evidence = await t.store.repos.proofing.evidenceOf("national", proofing.id);
    expect(evidence.map((e) => e.kind)).toEqual(["video_recording"]);
    expect(evidence[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("evidence retention", () => {
  it("keeps a decided case's evidence for the retention period, then the clean-up job deletes it", async () => {
    t = await testApp({ clockStart: Date.now() });
    const who = await applicant(t, "in_person", { point: "roma-corso" });
    const officer = await staff(t, "roma@example.it", [{ role: "registration_officer", point: "roma-corso" }]);
    const form = multipart({ decision: "reject", reason: "person_mismatch" }, { document_front: { name: "f.png", type: "image/png", content: PNG } });
    expect((await t.app.inject({ method: "POST", url: `/t/national/operator/cases/${who.proofing.id}/in-person`, headers: { ...form.headers, cookie: officer.cookie, ...ORIGIN }, payload: form.payload })).statusCode).toBe(303);
    t.clock.advance(19 * 365 * 86_400_000);
    await purgeExpired(t.store.repos, t.clock, await listTenants(t.store.repos));
    expect(await t.store.repos.proofing.evidenceOf("national", who.proofing.id)).toHaveLength(1);
    t.clock.advance(2 * 365 * 86_400_000);
    await purgeExpired(t.store.repos, t.clock, await listTenants(t.store.repos));
    expect(await t.store.repos.proofing.evidenceOf("national", who.proofing.id)).toHaveLength(0);
    // The decision itself stays: the case and its audit entries.
    expect((await latestCase(t.deps, (await latestTenant())!, who.account.id))!.reason).toBe("person_mismatch");
  });
});
