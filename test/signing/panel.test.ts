import path from "node:path";
import { PDF, rgb } from "@libpdf/core";
import { afterEach, describe, expect, it } from "vitest";
import { findTenant } from "../../src/tenants/service.ts";
import type { TestApp } from "../helpers/app.ts";
import { credentialFor } from "../helpers/csc.ts";
import { lastCodeTo } from "../helpers/enrolment.ts";
import { PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { run, workdir } from "../helpers/pki.ts";
import { proCookie, proScene } from "../helpers/professionals.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

async function contract(): Promise<Buffer> {
  const pdf = PDF.create();
  pdf.addPage({ size: "a4" }).drawText("Convenio de colaboración", { x: 50, y: 750, size: 14, color: rgb(0, 0, 0) });
  return Buffer.from(await pdf.save());
}

describe("the panel's signing page", () => {
  it("uploads a PDF, shows its name and size, signs it with the password and a code, and lists the signature in the access history", async () => {
    const scene = await proScene();
    t = scene.t;
    const { base, ane, city } = scene;
    const tenant = (await findTenant(t.store.repos, "pro"))!;
    await credentialFor(t, tenant, ane, city, ane, `${base}/t/pro`);
    const browser = httpBrowser(base);
    browser.cookies.set("tessera_session|/", { name: "tessera_session", value: (await proCookie(t, ane)).split("=")[1]!, path: "/" });

    const panel = await browser.go("/t/pro/account");
    expect(panel.html).toContain('href="/t/pro/account/sign"');
    const start = await browser.go("/t/pro/account/sign");
    expect(start.html).toContain("Ayuntamiento de Ejemplo (P4800100B)");
    const credential = /<option value="([^"]+)"/.exec(start.html)![1]!;

    // The upload: multipart, as the browser sends the form.
    const document = await contract();
    const form = new FormData();
    form.set("credential", credential);
    form.set("file", new Blob([document], { type: "application/pdf" }), "convenio.pdf");
    const uploaded = await fetch(`${base}/t/pro/account/sign`, { method: "POST", body: form, redirect: "manual", headers: { cookie: browser.cookieHeader(`${base}/t/pro/account/sign`), origin: base } });
    expect(uploaded.status).toBe(303);
    for (const line of uploaded.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, value] = pair!.split("=");
      browser.cookies.set(`${name}|/t/pro/account/sign`, { name: name!, value: value!, path: "/t/pro/account/sign" });
    }
    let page = await browser.go(new URL(uploaded.headers.get("location")!, base).href);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`Document: convenio.pdf (${Math.max(1, Math.round(document.length / 1000))} kB)`);
    expect(page.html).toContain("Certificate: Ayuntamiento de Ejemplo");
    expect(page.html).toContain("We sent a code to");

    // A wrong password is said so; then the right one and the code sign it.
    page = await browser.submit(page, /\/account\/sign\/[\w-]+$/, { password: "Not-The-Password-1", code: await lastCodeTo(t, "+34600000001", "pro") });
    expect(page.status).toBe(400);
    expect(page.html).toContain("That is not your password.");
    t.clock.advance(61_000);
    const resend = browser.forms(page).find((f) => f.fields.send === "on")!;
    page = await browser.go(resend.action, { form: resend.fields });
    page = await browser.submit(page, /\/account\/sign\/[\w-]+$/, { password: PASSWORD, code: await lastCodeTo(t, "+34600000001", "pro") });
    expect(page.html).toContain("Document signed");
    const href = /href="([^"]+\/signed\.pdf)"/.exec(page.html)![1]!;
    const signed = Buffer.from(await (await fetch(`${base}${href}`, { headers: { cookie: browser.cookieHeader(`${base}${href}`) } })).arrayBuffer());
    expect(signed.subarray(0, document.length).equals(document)).toBe(true);
    const dir = workdir({ "signed.pdf": signed });
    const verdict = await run("pdfsig", [path.join(dir, "signed.pdf")]);
    expect(verdict.stdout).toContain("Signature Validation: Signature is Valid.");
    expect(verdict.stdout).toContain("Signer Certificate Common Name: Ane Etxeberria - 12345678Z");
    // Nobody else's browser downloads it.
    expect((await fetch(`${base}${href}`)).status).not.toBe(200);

    const history = await browser.go("/t/pro/account");
    expect(history.html).toContain("Signature: convenio.pdf (Ayuntamiento de Ejemplo)");
  });

  it("takes only a PDF", async () => {
    const scene = await proScene();
    t = scene.t;
    const { base, ane, city } = scene;
    const tenant = (await findTenant(t.store.repos, "pro"))!;
    const credential = await credentialFor(t, tenant, ane, city, ane, `${base}/t/pro`);
    const form = new FormData();
    form.set("credential", credential);
    form.set("file", new Blob([Buffer.from("just text")], { type: "text/plain" }), "notes.txt");
    const refused = await fetch(`${base}/t/pro/account/sign`, { method: "POST", body: form, redirect: "manual", headers: { cookie: await proCookie(t, ane), origin: base, "accept-language": "en" } });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Choose a PDF document");
    expect(await t.store.db.selectFrom("flows").select("id").where("kind", "=", "signing").execute()).toHaveLength(0);
  });
});
