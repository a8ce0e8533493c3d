import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findAccount } from "../../src/identity/accounts.ts";
import { latestCase } from "../../src/flows/proofing/cases.ts";
import { initPki } from "../../src/pki/authorities.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { type MtlsServer, startMtlsServer } from "../../src/web/mtls.ts";
import { listeningApp, type TestApp } from "../helpers/app.ts";
import { EC_ALGORITHMS, run, subjectKey, workdir } from "../helpers/pki.ts";
import { applicant, GIULIA, sessionCookie } from "../helpers/proofing.ts";
import { updatePolicy } from "../helpers/tenants.ts";

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

/**
 * The national tenant trusts its own CA for CNS cards; the app listens, and so does the
 * mutual-TLS endpoint, whose address the panel's link leads to. curl is the browser with the card.
 */
async function setUp() {
  const app = await listeningApp();
  t = app.t;
  const tenant = await updatePolicy(t.store, "national", (p) => {
    p.pki = { ...p.pki, algorithms: EC_ALGORITHMS };
    p.enrolment!.proofing = { ...p.enrolment!.proofing, trust: { cns: { pem: [], tenantPki: true } } };
  });
  const tenantUrl = `${app.base}/t/national`;
  await initPki(t.deps, tenant, tenantUrl, BY);
  mtls = await startMtlsServer({ port: 0, host: "127.0.0.1", publicUrl: app.base, services: t.services, log: t.app.log });
  t.services.mtlsUrl = mtls.url;
  const who = await applicant(t, "cns");
  const dir = workdir();
  const card = async (name: string, fiscalCode: string, profile: "tls-client" | "qualified-signing" = "tls-client") => {
    const key = subjectKey("ec");
    const issued = await issueCertificate(t!.deps, tenant, tenantUrl, { profile, subject: { country: "IT", commonName: "GIULIA BIANCHI", serialNumber: `TINIT-${fiscalCode}` }, publicKey: key.spki }, BY);
    writeFileSync(path.join(dir, `${name}.key`), key.pem);
    writeFileSync(path.join(dir, `${name}.pem`), issued.pem);
  };
  /** The applicant's browser: the panel's link (with the ticket), then the endpoint with the card, if any. */
  const present = async (name?: string) => {
    const cookie = await sessionCookie(t!, who.account, 1);
    const start = await t!.app.inject({ url: "/t/national/account/proofing/cns", headers: { cookie } });
    expect(start.statusCode).toBe(303);
    const target = start.headers.location as string;
    expect(target.startsWith(`${mtls!.url}/t/national/proofing/cns?ticket=`)).toBe(true);
    const curl = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", ...(name ? ["--cert", path.join(dir, `${name}.pem`), "--key", path.join(dir, `${name}.key`)] : []), target]);
    const [status, location] = curl.stdout.split(" ");
    return { status: Number(status), location: location ?? "" };
  };
  return { tenant, who, card, present, base: app.base };
}

describe("identification by CNS over mutual TLS", () => {
  it("activates the identity when the card's certificate chains to a trusted CNS CA and carries the request's codice fiscale", async () => {
    const { tenant, who, card, present, base } = await setUp();
    await card("giulia", GIULIA.fiscalCode!);
    expect(await present("giulia")).toEqual({ status: 303, location: `${base}/t/national/account?notice=proofing.approved` });
    const account = (await findAccount(t!.deps, tenant, who.account.id))!;
    expect(account.state).toBe("active");
    const proofing = (await latestCase(t!.deps, tenant, who.account.id))!;
    expect(proofing.data.verified).toMatchObject({ subject: expect.stringContaining(`TINIT-${GIULIA.fiscalCode}`), revocation: "ocsp" });
    expect((await t!.store.repos.proofing.evidenceOf("national", proofing.id)).map((e) => e.kind)).toEqual(["client_certificate"]);
  });

  it("sends the browser back with the reason when there is no card, the card is someone else's, or the link is forged", async () => {
    const { who, card, present, base } = await setUp();
    expect(await present()).toEqual({ status: 303, location: `${base}/t/national/account?refused=certificate_untrusted` });
    await card("mario", "RSSMRA80A01H501U");
    expect(await present("mario")).toEqual({ status: 303, location: `${base}/t/national/account?refused=fiscal_code_mismatch` });
    // A signing certificate is no card: not for client authentication.
    await card("signing", GIULIA.fiscalCode!, "qualified-signing");
    expect(await present("signing")).toEqual({ status: 303, location: `${base}/t/national/account?refused=certificate_untrusted` });
    // A ticket not made by the server.
    await card("giulia", GIULIA.fiscalCode!);
    const forged = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--cert", "x", `${mtls!.url}/t/national/proofing/cns?ticket=national.${who.account.id}.99999999999999.AAAA`]);
    expect(forged.stdout.split(" ")[0]).not.toBe("200");
    const plain = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${mtls!.url}/t/national/proofing/cns?ticket=national.${who.account.id}.99999999999999.AAAA`]);
    expect(plain.stdout).toBe(`303 ${base}/t/national/account?error=proofing.ticket_invalid`);
    expect((await findAccount(t!.deps, (await findTenant(t!.store.repos, "national"))!, who.account.id))!.state).toBe("awaiting_proofing");
  });
});
