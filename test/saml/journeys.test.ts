import { SignedXml } from "xml-crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { findTenant } from "../../src/tenants/service.ts";
import { lastCodeTo } from "../helpers/enrolment.ts";
import { member, PASSWORD } from "../helpers/flows.ts";
import { type HttpBrowser, httpBrowser, type Page } from "../helpers/http-browser.ts";
import { type OidcTestApp, oidcTestApp } from "../helpers/oidc.ts";
import { ACS, idpCertificate, type KeyPair, newKeyPair, nodeSamlSp, postedForm, registerSp, SLO, SPID_L, spMetadata } from "../helpers/saml.ts";
import { updateAccountState } from "./state.ts";

let t: OidcTestApp;
afterEach(async () => {
  vi.useRealTimers();
  await t?.close();
});

const lucia = {
  identifier: "lucia.verdi@example.it",
  email: "lucia.verdi@example.it",
  emailVerified: true,
  phone: "+393331119003",
  phoneVerified: true,
  givenName: "Lucia",
  familyName: "Verdi",
  sex: "F" as const,
  birthDate: "1990-06-15",
  fiscalCode: "VRDLCU90H55F205X",
};

async function setup() {
  t = await oidcTestApp();
  await member(t, "national", lucia);
  const keys = await newKeyPair();
  await registerSp(t, "national", spMetadata({ certificateBase64: keys.certificateBase64 }));
  return { keys, browser: httpBrowser(t.baseUrl) };
}

/** Signs in on the login pages (with an SMS code when a second factor is asked) and agrees to the release. */
async function throughPages(browser: HttpBrowser, start: Page, options: { consent?: "allow" | "deny" } = {}): Promise<Page> {
  let page = start;
  for (let step = 0; step < 6; step++) {
    const path = new URL(page.url).pathname;
    if (path === "/t/national/login") {
      page = await browser.submit(page, /\/login$/, { identifier: lucia.identifier, password: PASSWORD });
    } else if (path.startsWith("/t/national/login/")) {
      const send = browser.forms(page).find((f) => f.fields.method === "sms" && f.fields.send === "on")!;
      page = await browser.go(send.action, { form: send.fields });
      const code = await lastCodeTo(t, lucia.phone, "national");
      const enter = browser.forms(page).find((f) => f.fields.method === "sms" && f.fields.send === undefined)!;
      page = await browser.go(enter.action, { form: { ...enter.fields, code } });
    } else if (page.html.includes("asks for your data")) {
      page = await browser.submit(page, /\/consent$/, { decision: options.consent ?? "allow" });
    } else {
      return page;
    }
  }
  return page;
}

/** The Response a page posts to the SP, its status and whether its signature verifies with the IdP's certificate. */
async function responseOn(page: Page) {
  const form = postedForm(page.html);
  const xml = Buffer.from(form.fields.SAMLResponse!, "base64").toString();
  const statuses = [...xml.matchAll(/<samlp:StatusCode Value="([^"]+)"/g)].map((m) => m[1]!.split(":").pop());
  const message = /<samlp:StatusMessage>([^<]+)</.exec(xml)?.[1];
  const { certificatePem } = await idpCertificate(t.baseUrl, "national");
  const sig = new SignedXml({ publicCert: certificatePem, getCertFromKeyInfo: () => null });
  sig.loadSignature(/<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(xml)![0]);
  return { form, xml, statuses, message, signed: sig.checkSignature(xml) };
}

async function sp(keys: KeyPair, options: Parameters<typeof nodeSamlSp>[3] = {}) {
  return nodeSamlSp(t.baseUrl, "national", keys, options);
}

describe("SAML journeys", () => {
  it("POST binding first, then single sign-on by Redirect at L1 with no sign-in and no second consent", async () => {
    const { keys, browser } = await setup();
    // The POST binding carries the message uncompressed (SAML bindings §3.5.4).
    const post = await sp(keys, { authnRequestBinding: "HTTP-POST", skipRequestCompression: true });
    const form = await post.getAuthorizeFormAsync("r-post");
    const samlRequest = /name="SAMLRequest" value="([^"]+)"/.exec(form)![1]!;
    const start = await browser.go(`${t.baseUrl}/t/national/saml/sso`, { form: { SAMLRequest: samlRequest, RelayState: "r-post" } });
    const first = await throughPages(browser, start);
    const { profile } = await post.validatePostResponseAsync(postedForm(first.html).fields);
    expect(profile!.fiscalNumber).toBe(`TINIT-${lucia.fiscalCode}`);

    const redirect = await sp(keys);
    const again = await browser.go(await redirect.getAuthorizeUrlAsync("r-2", undefined, {}));
    expect(new URL(again.url).pathname).toBe("/t/national/saml/sso");
    const second = await redirect.validatePostResponseAsync(postedForm(again.html).fields);
    expect(second.profile!.getAssertionXml!()).toContain(SPID_L(1));
    // Each assertion gets its own transient NameID.
    expect(second.profile!.nameID).not.toBe(profile!.nameID);
  });

  it("asks for a fresh sign-in with an SMS code at L2 (exact) even with an L1 session, and states SpidL2", async () => {
    const { keys, browser } = await setup();
    const l1 = await sp(keys);
    await throughPages(browser, await browser.go(await l1.getAuthorizeUrlAsync("a", undefined, {})));
    const l2 = await sp(keys, { authnContext: [SPID_L(2)], racComparison: "exact", forceAuthn: true });
    const start = await browser.go(await l2.getAuthorizeUrlAsync("b", undefined, {}));
    expect(new URL(start.url).searchParams.get("level")).toBe("2");
    const done = await throughPages(browser, start);
    const { profile } = await l2.validatePostResponseAsync(postedForm(done.html).fields);
    expect(profile!.getAssertionXml!()).toContain(`<saml:AuthnContextClassRef>${SPID_L(2)}</saml:AuthnContextClassRef>`);
  });

  it("ForceAuthn at L1 asks for the password again", async () => {
    const { keys, browser } = await setup();
    await throughPages(browser, await browser.go(await (await sp(keys)).getAuthorizeUrlAsync("a", undefined, {})));
    const forced = await browser.go(await (await sp(keys, { forceAuthn: true })).getAuthorizeUrlAsync("b", undefined, {}));
    expect(new URL(forced.url).pathname).toBe("/t/national/login");
  });

  it.each([
    ["refuses the attribute release (nr22)", "nr22"],
    ["cancels on the sign-in page (nr25)", "nr25"],
  ])("answers AuthnFailed when the user %s", async (_name, code) => {
    const { keys, browser } = await setup();
    const start = await browser.go(await (await sp(keys)).getAuthorizeUrlAsync("x", undefined, {}));
    let page: Page;
    if (code === "nr22") {
      page = await throughPages(browser, start, { consent: "deny" });
    } else {
      page = await browser.submit(start, /\/abort$/, {});
    }
    const answer = await responseOn(page);
    expect(answer.form.action).toBe(ACS);
    expect(answer.statuses).toEqual(["Responder", "AuthnFailed"]);
    expect(answer.message).toBe(`ErrorCode ${code}`);
    expect(answer.signed).toBe(true);
    // Answered once: the ticket cannot be used again.
    const ticket = /\/saml\/sso\/([^/"]+)\//.exec(start.html)?.[1];
    if (ticket) expect((await browser.go(`${t.baseUrl}/t/national/saml/sso/${ticket}`)).status).toBe(409);
  });

  it("reports the lock-out (nr19) when the user goes back after repeated wrong passwords", async () => {
    const { keys, browser } = await setup();
    let page = await browser.go(await (await sp(keys)).getAuthorizeUrlAsync("x", undefined, {}));
    for (let i = 0; i < 12 && !page.html.includes('name="outcome" value="locked"'); i++) {
      page = await browser.submit(page, /\/login$/, { identifier: lucia.identifier, password: "Wrong-Password-1!" });
    }
    expect(page.html).toContain('name="outcome" value="locked"');
    const answer = await responseOn(await browser.submit(page, /\/abort$/, {}));
    expect(answer.message).toBe("ErrorCode nr19");
  });

  it("reports a suspended identity (nr23) and one without a second factor at L2 (nr20)", async () => {
    const { keys, browser } = await setup();
    const tenant = (await findTenant(t.store.repos, "national"))!;
    await member(t, "national", { identifier: "senza.secondo@example.it", email: "senza.secondo@example.it", emailVerified: true });
    let page = await browser.go(await (await sp(keys, { authnContext: [SPID_L(2)] })).getAuthorizeUrlAsync("x", undefined, {}));
    page = await browser.submit(page, /\/login$/, { identifier: "senza.secondo@example.it", password: PASSWORD });
    expect((await responseOn(await browser.submit(page, /\/abort$/, {}))).message).toBe("ErrorCode nr20");

    await updateAccountState(t, tenant, lucia.identifier, "suspended");
    page = await browser.go(await (await sp(keys)).getAuthorizeUrlAsync("y", undefined, {}));
    page = await browser.submit(page, /\/login$/, { identifier: lucia.identifier, password: PASSWORD });
    expect((await responseOn(await browser.submit(page, /\/abort$/, {}))).message).toBe("ErrorCode nr23");
  });

  it("times out (nr21) when the sign-in takes longer than the tenant allows", async () => {
    const { keys, browser } = await setup();
    const start = await browser.go(await (await sp(keys)).getAuthorizeUrlAsync("x", undefined, {}));
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 16 * 60_000 });
    const page = await browser.submit(start, /\/login$/, { identifier: lucia.identifier, password: PASSWORD });
    expect((await responseOn(page)).message).toBe("ErrorCode nr21");
  });

  it("answers nr30 after sign-in when the service asks for a professional identity (spid:Purpose)", async () => {
    const { keys, browser } = await setup();
    const purpose = await sp(keys, { samlAuthnRequestExtensions: { "spid:Purpose": { "@xmlns:spid": "https://spid.gov.it/saml-extensions", "#text": "P" } } });
    const page = await throughPages(browser, await browser.go(await purpose.getAuthorizeUrlAsync("x", undefined, {})));
    expect((await responseOn(page)).message).toBe("ErrorCode nr30");
  });

  it("single logout: the SP's signed LogoutRequest ends the session and gets a signed Success", async () => {
    const { keys, browser } = await setup();
    const saml = await sp(keys, { logoutCallbackUrl: SLO });
    const done = await throughPages(browser, await browser.go(await saml.getAuthorizeUrlAsync("x", undefined, {})));
    const { profile } = await saml.validatePostResponseAsync(postedForm(done.html).fields);
    const logout = await browser.go(await saml.getLogoutUrlAsync(profile!, "bye", {}));
    const answer = await responseOn(logout);
    expect(answer.form.action).toBe(SLO);
    expect(answer.xml).toContain("<samlp:LogoutResponse");
    expect(answer.statuses).toEqual(["Success"]);
    expect(answer.signed).toBe(true);
    expect(answer.form.fields.RelayState).toBe("bye");
    // The Tessera session is gone: the panel asks for a sign-in.
    const panel = await browser.go(`${t.baseUrl}/t/national/account`);
    expect(new URL(panel.url).pathname).toBe("/t/national/login");
  });

  it("lists the service in the panel with its attributes and its sign-ins; withdrawing asks again next time", async () => {
    const { keys, browser } = await setup();
    const saml = await sp(keys);
    await throughPages(browser, await browser.go(await saml.getAuthorizeUrlAsync("x", undefined, {})));
    let panel = await browser.go(`${t.baseUrl}/t/national/account`);
    expect(panel.html).toMatch(/<strong>Comune di Esempio<\/strong>: [^<]*Fiscal code/);
    // The access history names the service signed in to.
    expect(panel.html.match(/Comune di Esempio/g)!.length).toBeGreaterThanOrEqual(2);
    panel = await browser.submit(panel, /\/applications\/saml-[^/]+\/withdraw$/, {});
    expect(panel.html).not.toMatch(/<strong>Comune di Esempio<\/strong>/);
    const again = await browser.go(await saml.getAuthorizeUrlAsync("y", undefined, {}));
    expect(again.html).toContain("Comune di Esempio asks for your data");
  });
});
