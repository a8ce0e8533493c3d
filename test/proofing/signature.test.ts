import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findAccount } from "../../src/identity/accounts.ts";
import { latestCase } from "../../src/flows/proofing/cases.ts";
import { contractFor, submitSignedContract } from "../../src/flows/proofing/signature.ts";
import { chainPem, initPki } from "../../src/pki/authorities.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { revokeCertificate } from "../../src/pki/revocation.ts";
import { listeningApp, type TestApp } from "../helpers/app.ts";
import { lastMessageTo } from "../helpers/enrolment.ts";
import { EC_ALGORITHMS, openssl, run, subjectKey, workdir } from "../helpers/pki.ts";
import { applicant, GIULIA, multipart, sessionCookie } from "../helpers/proofing.ts";
import { updatePolicy } from "../helpers/tenants.ts";

const BY = { actor: "test" };
const DAY = 86_400_000;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

/**
 * A national tenant whose own CA issues the citizens' qualified certificates, and trusts it for
 * the signature method; an applicant who chose it, with the contract downloaded.
 */
async function setUp() {
  const app = await listeningApp();
  t = app.t;
  const tenant = await updatePolicy(t.store, "national", (p) => {
    p.pki = { ...p.pki, algorithms: EC_ALGORITHMS };
    p.enrolment!.proofing = { ...p.enrolment!.proofing, trust: { signature: { pem: [], tenantPki: true } } };
  });
  const tenantUrl = `${app.base}/t/national`;
  const { hierarchy } = await initPki(t.deps, tenant, tenantUrl, BY);
  const who = await applicant(t, "signature");
  const contract = await contractFor(t.deps, tenant, who.account, BY);
  const dir = workdir({ "contract.pdf": contract, "chain.pem": chainPem(hierarchy) });
  /** A signer's key and certificate, written as files the signing tools take. */
  const signer = async (name: string, options: { fiscalCode?: string; profile?: "qualified-signing" | "tls-client"; days?: number } = {}) => {
    const key = subjectKey("rsa");
    const issued = await issueCertificate(
      t!.deps,
      tenant,
      tenantUrl,
      {
        profile: options.profile ?? "qualified-signing",
        subject: { country: "IT", commonName: "GIULIA BIANCHI", givenName: "Giulia", surname: "Bianchi", serialNumber: `TINIT-${options.fiscalCode ?? GIULIA.fiscalCode}` },
        publicKey: key.spki,
        ...(options.days ? { validityDays: options.days } : {}),
      },
      BY,
    );
    writeFileSync(path.join(dir, `${name}.key`), key.pem);
    writeFileSync(path.join(dir, `${name}.pem`), issued.pem);
    return issued;
  };
  /** CAdES, as `openssl cms` makes a `.p7m`: the contract inside, signing-certificate-v2 added. */
  const cades = async (name: string, input = "contract.pdf") => {
    const made = await openssl(["cms", "-sign", "-binary", "-nodetach", "-cades", "-md", "sha256", "-in", input, "-signer", `${name}.pem`, "-inkey", `${name}.key`, "-certfile", "chain.pem", "-outform", "DER", "-out", `${name}.p7m`], { cwd: dir });
    expect(made.code, made.stderr).toBe(0);
    return readFileSync(path.join(dir, `${name}.p7m`));
  };
  const submit = (upload: Uint8Array) => submitSignedContract(t!.deps, tenant, who.account, upload, BY, { accountUrl: `${tenantUrl}/account` });
  return { tenant, tenantUrl, who, contract, dir, signer, cades, submit };
}

describe("identification by qualified signature", () => {
  it("activates the identity when the contract comes back signed in CAdES by the applicant's own qualified certificate", async () => {
    const { tenant, who, signer, cades, submit } = await setUp();
    await signer("giulia");
    expect(await submit(await cades("giulia"))).toBe("approved");
    const account = (await findAccount(t!.deps, tenant, who.account.id))!;
    expect(account.state).toBe("active");
    expect(account.spidCode).toMatch(/^TESS\d{10}$/);
    const proofing = (await latestCase(t!.deps, tenant, who.account.id))!;
    expect(proofing.state).toBe("approved");
    expect(proofing.data.verified).toMatchObject({ format: "CAdES", subject: expect.stringContaining("serialNumber=TINIT-BNCGLI90E55F205D"), revocation: "ocsp" });
    const kinds = (await t!.store.repos.proofing.evidenceOf("national", proofing.id)).map((e) => e.kind);
    expect(kinds).toEqual(["contract", "signed_contract"]);
    expect((await lastMessageTo(t!, GIULIA.email!)).text).toContain(account.spidCode!);
  });

  it("activates the identity for a PDF signed with pdfsig through NSS (PAdES)", async () => {
    const { dir, signer, submit } = await setUp();
    await signer("giulia");
    // The applicant's own signing software: Debian's pdfsig, the key in an NSS database.
    await openssl(["pkcs12", "-export", "-inkey", "giulia.key", "-in", "giulia.pem", "-certfile", "chain.pem", "-name", "giulia", "-passout", "pass:", "-out", "giulia.p12"], { cwd: dir });
    await run("mkdir", [path.join(dir, "nss")]);
    const database = await run("certutil", ["-N", "-d", `sql:${dir}/nss`, "--empty-password"], { cwd: dir });
    expect(database.code, database.stderr).toBe(0);
    const imported = await run("pk12util", ["-i", "giulia.p12", "-d", `sql:${dir}/nss`, "-W", ""], { cwd: dir });
    expect(imported.code, imported.stderr + imported.stdout).toBe(0);
    const signed = await run("pdfsig", ["-add-signature", "-nssdir", `sql:${dir}/nss`, "-nick", "giulia", "contract.pdf", "signed.pdf"], { cwd: dir });
    expect(signed.code, signed.stderr + signed.stdout).toBe(0);
    expect(await submit(readFileSync(path.join(dir, "signed.pdf")))).toBe("approved");
  });

  it("refuses, saying why and changing nothing, a signature by another codice fiscale, a revoked or expired certificate, an untrusted or unqualified one, and another document", async () => {
    const { tenant, who, dir, signer, cades, submit } = await setUp();
    const refused = async (upload: Uint8Array, reason: string) => {
      await expect(submit(upload)).rejects.toMatchObject({ reason });
    };
    await signer("other", { fiscalCode: "RSSMRA80A01H501U" });
    await refused(await cades("other"), "fiscal_code_mismatch");

    const revoked = await signer("revoked");
    await revokeCertificate(t!.deps, tenant, { serial: revoked.serial, reason: "keyCompromise" }, BY);
    await refused(await cades("revoked"), "certificate_revoked");

    await signer("tls", { profile: "tls-client" });
    await refused(await cades("tls"), "certificate_untrusted");

    // A certificate of a CA the tenant does not trust.
    await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-subj", `/C=IT/serialNumber=TINIT-${GIULIA.fiscalCode}/CN=GIULIA BIANCHI`, "-days", "30", "-out", "self.pem"], { cwd: dir });
    await refused(await cades("self"), "certificate_untrusted");

    // Giulia's own certificate, but over another document.
    await signer("giulia");
    writeFileSync(path.join(dir, "other.pdf"), "%PDF-1.7 not the contract");
    await refused(await cades("giulia", "other.pdf"), "signature_invalid");
    // The contract's .p7m with a byte of the signed content changed.
    const tampered = await cades("giulia");
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    await refused(tampered, "signature_invalid");

    // A certificate that expires tomorrow, used the day after.
    await signer("short", { days: 1 });
    const short = await cades("short");
    t!.clock.advance(2 * DAY);
    await refused(short, "certificate_expired");

    expect((await findAccount(t!.deps, tenant, who.account.id))!.state).toBe("awaiting_proofing");
    expect((await latestCase(t!.deps, tenant, who.account.id))!.state).toBe("pending");
    const audited = await t!.store.db.selectFrom("audit_entries").select("data").where("type", "=", "proofing.attempt_refused").execute();
    expect(audited).toHaveLength(7);
  });
});

describe("the signature method from the panel", () => {
  it("downloads the contract, takes the signed file from the form, and shows a refusal in words", async () => {
    const { who, dir, signer, cades } = await setUp();
    const cookie = await sessionCookie(t!, who.account, 1);
    const headers = { cookie, origin: t!.services.publicUrl.current, accept: "text/html" };
    const panel = await t!.app.inject({ url: "/t/national/account", headers });
    expect(panel.body).toContain("Scarica il contratto");
    const download = await t!.app.inject({ url: "/t/national/account/proofing/contract.pdf", headers });
    expect(download.headers["content-type"]).toBe("application/pdf");
    // The same file every time: what comes back signed is compared with it.
    expect(Buffer.from(download.rawPayload).equals(readFileSync(path.join(dir, "contract.pdf")))).toBe(true);
    const text = await run("pdftotext", ["-", "-"], { input: Buffer.from(download.rawPayload) });
    expect(text.stdout).toContain("BNCGLI90E55F205D");

    const upload = (file: Buffer) => {
      const form = multipart({}, { file: { name: "contratto.pdf.p7m", type: "application/pkcs7-mime", content: file } });
      return t!.app.inject({ method: "POST", url: "/t/national/account/proofing/signed", headers: { ...headers, ...form.headers }, payload: form.payload });
    };
    await signer("other", { fiscalCode: "RSSMRA80A01H501U" });
    const refused = await upload(await cades("other"));
    expect(refused.statusCode).toBe(303);
    expect(refused.headers.location).toBe("/t/national/account?refused=fiscal_code_mismatch");
    const shown = await t!.app.inject({ url: refused.headers.location as string, headers });
    expect(shown.body).toContain("il certificato o il documento appartiene a un altro codice fiscale.");
    expect(shown.body).toContain("usa il tuo certificato o documento");

    await signer("giulia");
    const accepted = await upload(await cades("giulia"));
    expect(accepted.headers.location).toBe("/t/national/account?notice=proofing.approved");
    const active = await t!.app.inject({ url: accepted.headers.location as string, headers });
    expect(active.body).toContain("la tua identità digitale è attiva");
    expect(active.body).not.toContain("Scarica il contratto");
  });
});
