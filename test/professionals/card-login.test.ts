import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findSession } from "../../src/identity/sessions.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { revokeCertificate } from "../../src/pki/revocation.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { type MtlsServer, startMtlsServer } from "../../src/web/mtls.ts";
import type { TestApp } from "../helpers/app.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { run, subjectKey, workdir } from "../helpers/pki.ts";
import { proScene } from "../helpers/professionals.ts";

const BY = { actor: "test" };
let t: TestApp | undefined;
let mtls: MtlsServer | undefined;
afterEach(async () => {
  await mtls?.close();
  await t?.app.close();
  await t?.store.close();
  t = undefined;
  mtls = undefined;
});

/** The pro tenant's portal with its mutual-TLS endpoint; cards of its own CA (the demo's trust list). */
async function setUp() {
  const scene = await proScene();
  t = scene.t;
  mtls = await startMtlsServer({ port: 0, host: "127.0.0.1", publicUrl: scene.base, services: t.services, log: t.app.log });
  t.services.mtlsUrl = mtls.url;
  const tenant = (await findTenant(t.store.repos, "pro"))!;
  const dir = workdir();
  const card = async (name: string, dni: string) => {
    const key = subjectKey("ec");
    const subject = { country: "ES", commonName: `CARD HOLDER - ${dni}`, serialNumber: `IDCES-${dni}` };
    const issued = await issueCertificate(t!.deps, tenant, `${scene.base}/t/pro`, { profile: "tls-client", subject, publicKey: key.spki }, BY);
    writeFileSync(path.join(dir, `${name}.key`), key.pem);
    writeFileSync(path.join(dir, `${name}.pem`), issued.pem);
    return issued;
  };
  /** A browser at the portal follows "Sign in with my card" and curl presents `name` at the endpoint; where it is sent back. */
  const signIn = async (name: string, returnTo?: string) => {
    const browser = httpBrowser(scene.base);
    const portal = await browser.go(`/t/pro/login${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ""}`);
    const href = /href="([^"]*\/login\/card[^"]*)"/.exec(portal.html)![1]!.replace(/&amp;/g, "&");
    const atEndpoint = await browser.go(href);
    expect(atEndpoint.url.startsWith(`${mtls!.url}/t/pro/login/card?ticket=`)).toBe(true);
    const curl = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--cert", path.join(dir, `${name}.pem`), "--key", path.join(dir, `${name}.key`), atEndpoint.url]);
    const [status, location] = curl.stdout.split(" ");
    expect(status).toBe("303");
    return { browser, location: location!, back: await browser.go(location!) };
  };
  return { ...scene, tenant, card, signIn, dir: () => dir };
}

describe("the professionals' portal: a choice of means", () => {
  it("offers Profesionales en la nube and the card, and the way to request an identity", async () => {
    const { base } = await setUp();
    const page = await httpBrowser(base, { acceptLanguage: "es" }).go("/t/pro/login");
    expect(page.html).toContain("Profesionales en la nube");
    expect(page.html).toContain("según lo tengas configurado");
    expect(page.html).toContain("Acceder con mi tarjeta");
    expect(page.html).toContain('href="/t/pro/request"');
  });

  it("signs the card's holder in at level 2 (smart card and PIN), back to where they were going", async () => {
    const { ane, card, signIn, base } = await setUp();
    await card("ane", ane.identifier);
    const { browser, location, back } = await signIn("ane", "/t/pro/account/security");
    expect(location).toMatch(new RegExp(`^${base}/t/pro/login/[\\w-]+/card-answer\\?answer=[\\w-]+$`));
    expect(new URL(back.url).pathname).toBe("/t/pro/account/security");
    const token = [...browser.cookies.values()].find((c) => c.name === "tessera_session")!.value;
    const session = (await findSession(t!.deps, (await findTenant(t!.store.repos, "pro"))!, token))!;
    expect(session).toMatchObject({ accountId: ane.id, level: 2, amr: ["mfa", "pin", "sc"] });
    // Spent: the same address again signs nobody in.
    const other = await httpBrowser(base).go(location);
    expect(new URL(other.url).pathname).toBe("/t/pro/login");
  });

  it("gives the session to nobody when the endpoint's address is handed to another person who presents their card", async () => {
    const { ane, card, base, dir } = await setUp();
    await card("ane", ane.identifier);
    // Someone starts a card sign-in and sends the endpoint's address (with its ticket) to Ane.
    const schemer = httpBrowser(base);
    const portal = await schemer.go("/t/pro/login");
    const atEndpoint = await schemer.go(/href="([^"]*\/login\/card[^"]*)"/.exec(portal.html)![1]!);
    const flowId = /\/login\/card\?ticket=pro\.([\w-]+)\./.exec(atEndpoint.url)![1]!;
    // Ane's browser presents her card there, and is sent back with the answer; it is not the flow's browser.
    const curl = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{redirect_url}", "--cert", path.join(dir(), "ane.pem"), "--key", path.join(dir(), "ane.key"), atEndpoint.url]);
    expect(curl.stdout).toMatch(new RegExp(`/t/pro/login/${flowId}/card-answer\\?answer=`));
    const anes = await httpBrowser(base).go(curl.stdout);
    expect(new URL(anes.url).pathname).toBe("/t/pro/login");
    // The schemer's browser, bound to the flow, has no answer to bring: no session either.
    const collected = await schemer.go(`/t/pro/login/${flowId}/card-answer`);
    expect(new URL(collected.url).pathname).toBe("/t/pro/login");
    expect(collected.html).toContain("The link to the card sign-in has expired");
    expect([...schemer.cookies.values()].some((c) => c.name === "tessera_session")).toBe(false);
    expect(await t!.store.db.selectFrom("sessions").select("id").where("amr", "like", "%sc%").execute()).toHaveLength(0);
  });

  it("refuses, in words, a card of no professional, a revoked card, and a card with a ticket gone stale", async () => {
    const { card, signIn, tenant, base } = await setUp();
    await card("stranger", "87654321X");
    const stranger = await signIn("stranger", "/t/pro/account");
    expect(stranger.location).toMatch(new RegExp(`^${base}/t/pro/login/[\\w-]+/card-refused\\?error=login.card.no_identity$`));
    // Back at the sign-in page, still on its way to where it was going.
    expect(stranger.back.url).toBe(`${base}/t/pro/login?error=login.card.no_identity&return_to=%2Ft%2Fpro%2Faccount`);
    expect(stranger.back.status).toBe(422);
    expect(stranger.back.html).toContain("No professional identity has the DNI of this card");

    const revoked = await card("revoked", "12345678Z");
    await revokeCertificate(t!.deps, tenant, { serial: revoked.serial, reason: "keyCompromise" }, BY);
    const refused = await signIn("revoked");
    expect(refused.back.url).toBe(`${base}/t/pro/login?error=professionals.card.revoked`);
    expect(refused.back.html).not.toContain("tessera_session");
    const audit = await t!.store.db.selectFrom("audit_entries").select("data").where("type", "=", "login.card_refused").execute();
    expect(audit.map((a) => (JSON.parse(a.data) as { problem: string }).problem)).toEqual(["no_identity", "revoked"]);

    const stale = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${mtls!.url}/t/pro/login/card?ticket=pro.x.1.AAAA`]);
    expect(stale.stdout).toBe(`303 ${base}/t/pro/login?error=login.card.ticket_invalid`);
  });
});
