import { afterEach, describe, expect, it } from "vitest";
import { type TestApp, testApp } from "../helpers/app.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const HTML = { accept: "text/html", "accept-language": "it", origin: "http://localhost" };
const form = (values: Record<string, string>) => new URLSearchParams(values).toString();
const FORM = { ...HTML, "content-type": "application/x-www-form-urlencoded" };

/** Starts a request in a "browser": returns its page, cookie and CSRF token. */
async function startInBrowser(app: TestApp["app"]) {
  const started = await app.inject({ method: "POST", url: "/t/national/enrol", headers: FORM, payload: form({ method: "video" }) });
  expect(started.statusCode).toBe(303);
  const location = started.headers.location as string;
  const cookie = started.cookies.find((c) => c.name === "tessera_enrol")!;
  expect(cookie).toMatchObject({ path: "/t/national/enrol", httpOnly: true, sameSite: "Lax" });
  const page = await app.inject({ url: location, headers: { ...HTML, cookie: `tessera_enrol=${cookie.value}` } });
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)![1]!;
  return { location, cookie: `tessera_enrol=${cookie.value}`, csrf, page };
}

describe("enrolment pages", () => {
  it("start with the method choice, and are offered only by tenants with enrolment", async () => {
    t = await testApp();
    const start = await t.app.inject({ url: "/t/national/enrol", headers: HTML });
    expect(start.statusCode).toBe(200);
    expect(start.body).toContain("Richiedi la tua identità digitale SPID");
    for (const method of ["Firma digitale", "Carta Nazionale dei Servizi (CNS)", "Di persona", "Video riconoscimento", "Documento elettronico (CIE, NFC)"]) {
      expect(start.body).toContain(method);
    }
    expect((await t.app.inject({ url: "/t/pro/enrol", headers: HTML })).statusCode).toBe(404);
    const home = await t.app.inject({ url: "/t/national/", headers: HTML });
    expect(home.body).toContain('href="/t/national/enrol"');
  });

  it("show a step's errors with the form filled in again, but never a password", async () => {
    t = await testApp();
    const { location, cookie, csrf, page } = await startInBrowser(t.app);
    expect(page.body).toContain("I tuoi dati di accesso");
    const res = await t.app.inject({
      method: "POST",
      url: location,
      headers: { ...FORM, cookie },
      payload: form({ csrf_token: csrf, step: "credentials", email: "giulia@", password: "Secret-Password-1!", privacy_consent: "on" }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('<div class="error-summary" role="alert"');
    expect(res.body).toContain('<a href="#field-email">Inserisci un indirizzo e-mail valido.</a>');
    expect(res.body).toContain('value="giulia@"');
    expect(res.body).not.toContain("Secret-Password-1!");
    expect(res.body).toMatch(/id="field-email"[^>]*aria-invalid="true"/);
  });

  it("refuse a form without the flow's token, or from a browser not bound to the flow", async () => {
    t = await testApp();
    const { location, cookie } = await startInBrowser(t.app);
    const forged = await t.app.inject({ method: "POST", url: location, headers: { ...FORM, cookie }, payload: form({ csrf_token: "forged", step: "credentials" }) });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain("Il modulo è scaduto o non è stato inviato da questo sito");
    const elsewhere = await t.app.inject({ url: location, headers: HTML });
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.body).toContain("Questa richiesta è stata avviata su un altro browser o dispositivo");
    const otherSite = await t.app.inject({ method: "POST", url: location, headers: { ...FORM, cookie, origin: "https://evil.example" }, payload: form({ step: "credentials" }) });
    expect(otherSite.statusCode).toBe(403);
  });

  it("go back only to the steps that allow it", async () => {
    t = await testApp();
    const { location, cookie } = await startInBrowser(t.app);
    const back = await t.app.inject({ url: `${location}?step=method`, headers: { ...HTML, cookie } });
    expect(back.body).toContain("Come vuoi essere identificato?");
    const jump = await t.app.inject({ url: `${location}?step=summary`, headers: { ...HTML, cookie } });
    expect(jump.body).toContain("I tuoi dati di accesso");
  });
});
