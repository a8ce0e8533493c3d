import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ANE_PHONE, cscScene } from "../helpers/csc.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { PASSWORD } from "../helpers/flows.ts";
import { proCookie } from "../helpers/professionals.ts";

let scene: Awaited<ReturnType<typeof cscScene>> | undefined;
afterEach(async () => {
  await scene?.t.close();
  scene = undefined;
});

const NEW_PASSWORD = "Olivo-Plateado-2032";
const ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const hash = createHash("sha256").update("acta").digest("base64");

/** The SAD for `hash` with `pin`, or the API's refusal. */
async function authorizeWith(pin: string) {
  const { call, credentialId, t } = scene!;
  expect((await call("credentials/sendOTP", { credentialID: credentialId })).status).toBe(204);
  const otp = await lastCodeTo(t, ANE_PHONE, "pro");
  return call("credentials/authorize", { credentialID: credentialId, numSignatures: 1, hashes: [hash], authData: [{ id: "PIN", value: pin }, { id: "OTP", value: otp }] });
}

async function serialOf(credentialId: string) {
  return (await scene!.t.store.db.selectFrom("memberships").select("certificate_serial").where("id", "=", credentialId).executeTakeFirstOrThrow()).certificate_serial!;
}

/** A POST of the panel's form, as the browser sends it. */
async function panelPost(path: string, fields: Record<string, string>) {
  const { t, ane } = scene!;
  return fetch(`${t.baseUrl}/t/pro/account${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: await proCookie(t, ane), origin: t.baseUrl, "content-type": "application/x-www-form-urlencoded", "accept-language": "en", accept: "text/html" },
    body: new URLSearchParams(fields).toString(),
  });
}

describe("sole control across password changes", () => {
  it("re-wraps the keys when the holder changes the password knowing the old one, and the new one signs with the same certificate", async () => {
    scene = await cscScene();
    const serial = await serialOf(scene.credentialId);
    const page = await (await fetch(`${scene.t.baseUrl}/t/pro/account`, { headers: { cookie: await proCookie(scene.t, scene.ane), "accept-language": "en" } })).text();
    expect(page).toContain('name="current_password"');
    // Without the current password, nothing changes (the keys are under it).
    const refused = await panelPost("/password", { password: NEW_PASSWORD });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Enter your current password too");
    expect((await panelPost("/password", { password: NEW_PASSWORD, current_password: "Wrong-Password-9" })).status).toBe(400);
    const changed = await panelPost("/password", { password: NEW_PASSWORD, current_password: PASSWORD });
    const text = await changed.text();
    expect(changed.status, text.slice(text.indexOf("<main"), text.indexOf("<main") + 1500)).toBe(303);

    // The same certificate, the key now under the new password.
    expect(await serialOf(scene.credentialId)).toBe(serial);
    const withNew = await authorizeWith(NEW_PASSWORD);
    expect(withNew.status, JSON.stringify(withNew.json)).toBe(200);
    const signed = await scene.call("signatures/signHash", { credentialID: scene.credentialId, SAD: withNew.json.SAD, hashes: [hash], signAlgo: ECDSA_SHA256 });
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    const audit = await scene.t.store.db.selectFrom("audit_entries").select("type").where("type", "=", "credentials.rewrapped").execute();
    expect(audit).toHaveLength(1);
  });

  it("re-issues the certificates under the new password after a reset, the old ones revoked as superseded", async () => {
    scene = await cscScene();
    const { t, credentialId, call } = scene;
    const before = await serialOf(credentialId);
    // Recovery through the flow API: the e-mailed link, then the SMS code, then the new password.
    const api = async (path: string, body: Record<string, unknown>) => {
      const response = await fetch(`${t.baseUrl}/t/pro/api/flows${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return (await response.json()) as { id: string; step: string; state: string };
    };
    const flow = await api("", { kind: "recovery" });
    await api(`/${flow.id}`, { step: "identify", identifier: "12345678Z" });
    const link = new URL(/https?:\/\/\S+\/recover\/\S+/.exec((await lastMessageTo(t, "ane@example.eus", "pro")).text)![0]);
    await api(`/${flow.id}`, { step: "email_link", code: link.searchParams.get("code") });
    await api(`/${flow.id}`, { step: "code", code: await lastCodeTo(t, ANE_PHONE, "pro") });
    expect((await api(`/${flow.id}`, { step: "new_password", password: NEW_PASSWORD })).state).toBe("complete");

    const after = await serialOf(credentialId);
    expect(after).not.toBe(before);
    const rows = await t.store.db.selectFrom("certificates").select(["serial", "revoked_at", "revocation_reason"]).where("serial", "in", [before, after]).execute();
    expect(rows.find((r) => r.serial === before)).toMatchObject({ revoked_at: expect.any(Number), revocation_reason: 4 });
    expect(rows.find((r) => r.serial === after)).toMatchObject({ revoked_at: null });
    const told = await t.store.db.selectFrom("outbox").select("template").where("recipient", "=", "ane@example.eus").execute();
    expect(told.map((m) => m.template)).toContain("certificates_reissued");
    // The new certificate signs with the new password.
    const info = await call("credentials/info", { credentialID: credentialId, certInfo: true });
    expect(info.json).toMatchObject({ cert: { status: "valid", serialNumber: after } });
    const sad = await authorizeWith(NEW_PASSWORD);
    expect(sad.status, JSON.stringify(sad.json)).toBe(200);
    expect((await call("signatures/signHash", { credentialID: credentialId, SAD: sad.json.SAD, hashes: [hash], signAlgo: ECDSA_SHA256 })).status).toBe(200);
  });
});
