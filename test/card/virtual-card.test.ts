import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PDF, rgb } from "@libpdf/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANE_PHONE, cscScene } from "../helpers/csc.ts";
import { lastCodeTo } from "../helpers/enrolment.ts";
import { PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { signInThrough } from "../helpers/oidc.ts";
import { openssl, run, workdir } from "../helpers/pki.ts";
import { ay, p11kitClient, u32, u64 } from "../helpers/p11kit-client.ts";
import { runTessera, type Spawned, spawnTessera } from "../helpers/process.ts";
import { clientModulePath } from "../../src/card/p11kit/server.ts";

/**
 * The virtual card (issue 18) against a real Tessera server: `tessera card login` through the
 * tenant's pages, `card list`, `card sign` (PAdES made here), and `card serve` speaking p11-kit's
 * RPC protocol to Debian's p11-kit-client.so, used by pkcs11-tool (opensc) and by NSS (pdfsig).
 */
const MODULE = clientModulePath() ?? "p11-kit-client.so (apt install p11-kit-modules)";

let scene: Awaited<ReturnType<typeof cscScene>>;
let closed = false;
let home: string;
let env: NodeJS.ProcessEnv;
let daemon: Spawned;
let socket: string;

async function contract(text: string): Promise<Buffer> {
  const pdf = PDF.create();
  pdf.addPage({ size: "a4" }).drawText(text, { x: 50, y: 750, size: 14, color: rgb(0, 0, 0) });
  return Buffer.from(await pdf.save());
}

const answered = new WeakMap<Spawned, number>();

/** Answers the next question for a one-time code with the code the server just sent Ane. */
async function answerCode(process: Spawned): Promise<void> {
  const asked = (answered.get(process) ?? 0) + 1;
  const started = Date.now();
  while ((process.stderr().match(/one-time code to sign/g) ?? []).length < asked) {
    if (Date.now() - started > 30_000) throw new Error(`no question for a code:\n${process.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  answered.set(process, asked);
  process.proc.stdin!.write(`${await lastCodeTo(scene.t, ANE_PHONE, "pro")}\n`);
}

/** `tessera card login` driven through the tenant's pages as Ane's browser would. */
async function signIn(cardEnv: NodeJS.ProcessEnv, browser = httpBrowser(scene.t.baseUrl)) {
  const login = spawnTessera(["card", "login", "--server", scene.t.baseUrl, "--tenant", "pro", "--no-browser"], { env: cardEnv });
  const url = (await login.waitFor(/http:\/\/\S+\/oidc\/auth\?\S+/))[0];
  const back = await signInThrough(scene.t, browser, url, { tenant: "pro", identifier: "12345678Z", password: PASSWORD, phone: ANE_PHONE });
  expect((await fetch(back)).status).toBe(200);
  expect(await login.exited, login.stderr()).toBe(0);
  return { url, stdout: login.stdout() };
}

/** A desktop of its own: its configuration and runtime directories. */
function desktop() {
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-card-"));
  mkdirSync(path.join(dir, "run"), { mode: 0o700 });
  return { dir, env: { XDG_CONFIG_HOME: path.join(dir, "config"), XDG_RUNTIME_DIR: path.join(dir, "run"), HOME: dir, DISPLAY: "" } };
}

const pkcs11Tool = (args: string[]) => run("pkcs11-tool", ["--module", MODULE, ...args], { env: { P11_KIT_SERVER_ADDRESS: `unix:path=${socket}` } });

beforeAll(async () => {
  scene = await cscScene({ keyAlgorithm: "RSA-2048" });
  ({ dir: home, env } = desktop());
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  if (!closed) await scene?.t.close();
});

describe("tessera card", () => {
  it("signs in through the tenant's pages (DNI, password, code) and keeps the tokens where only its owner reads them", async () => {
    const login = await signIn(env);
    expect(new URL(login.url).searchParams.get("client_id")).toBe("tessera-card");
    expect(new URL(login.url).searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(login.stdout).toContain("as Ane Etxeberria; 1 certificate(s)");
    expect(login.stdout).toContain("Ayuntamiento de Ejemplo");
    const file = path.join(home, "config", "tessera", "card.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ tenant: "pro", refreshToken: expect.any(String) });

    // Signed in already in that browser, a program of the desktop still gets no token silently:
    // the card's client always asks for the sign-in again.
    const browser = httpBrowser(scene.t.baseUrl);
    await signIn(desktop().env, browser);
    const again = spawnTessera(["card", "login", "--server", scene.t.baseUrl, "--tenant", "pro", "--no-browser"], { env: desktop().env });
    const page = await browser.go((await again.waitFor(/http:\/\/\S+\/oidc\/auth\?\S+/))[0]);
    expect(new URL(page.url).pathname).toBe("/t/pro/login");
    await again.stop();

    const list = await runTessera(["card", "list", "--json"], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: scene.credentialId, organization: "Ayuntamiento de Ejemplo", status: "valid", key: "RSA-2048" })]);
  }, 60_000);

  it("serves the token: pkcs11-tool lists the slot, the certificate and, after login, the private key", async () => {
    daemon = spawnTessera(["card", "serve"], { env, stdin: true });
    [, socket] = (await daemon.waitFor(/p11-kit on (\S+)/)) as [string, string];
    expect(socket).toBe(path.join(home, "run", "p11-kit", "pkcs11"));
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    const slots = await pkcs11Tool(["--list-slots"]);
    expect(slots.code, slots.stderr).toBe(0);
    expect(slots.stdout, daemon.stderr()).toContain("Tessera virtual card");
    expect(slots.stdout).toContain("token label        : Tessera Ane Etxeberria");
    expect(slots.stdout).toMatch(/token flags\s+: .*login required/);

    const objects = await pkcs11Tool(["--list-objects"]);
    expect(objects.stdout).toContain("Certificate Object; type = X.509 cert");
    expect(objects.stdout).toContain("label:      Ayuntamiento de Ejemplo");
    expect(objects.stdout).not.toContain("Private Key Object");

    const mechanisms = await pkcs11Tool(["--list-mechanisms"]);
    expect(mechanisms.stdout).toContain("RSA-PKCS");
    expect(mechanisms.stdout).toContain("SHA256-RSA-PKCS");

    const loggedIn = await pkcs11Tool(["--login", "--pin", PASSWORD, "--list-objects"]);
    expect(loggedIn.code, loggedIn.stderr).toBe(0);
    expect(loggedIn.stdout).toContain("Private Key Object; RSA");
    expect(loggedIn.stdout).toMatch(/Usage:\s+sign/);
  }, 60_000);

  it("signs with CKM_SHA256_RSA_PKCS and CKM_RSA_PKCS after asking for the code; openssl verifies both signatures", async () => {
    const dir = workdir({ "data.txt": "Acta 2026/17: aprobada por unanimidad\n" });
    const certificate = await pkcs11Tool(["--read-object", "--type", "cert", "--label", "Ayuntamiento de Ejemplo", "--output-file", path.join(dir, "cert.der")]);
    expect(certificate.code, certificate.stderr).toBe(0);
    expect((await openssl(["x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out", "pub.pem"], { cwd: dir })).code).toBe(0);

    const signing = pkcs11Tool(["--login", "--pin", PASSWORD, "--sign", "--mechanism", "SHA256-RSA-PKCS", "--input-file", path.join(dir, "data.txt"), "--output-file", path.join(dir, "sha256.sig")]);
    await answerCode(daemon);
    const signed = await signing;
    expect(signed.code, signed.stdout + signed.stderr).toBe(0);
    const verified = await openssl(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sha256.sig", "data.txt"], { cwd: dir });
    expect(verified.stdout).toContain("Verified OK");

    // CKM_RSA_PKCS over a DigestInfo made here: the application hashes, the card only signs.
    const digestInfo = Buffer.concat([Buffer.from("3031300d060960864801650304020105000420", "hex"), createHash("sha256").update(readFileSync(path.join(dir, "data.txt"))).digest()]);
    writeFileSync(path.join(dir, "digestinfo.bin"), digestInfo);
    const raw = pkcs11Tool(["--login", "--pin", PASSWORD, "--sign", "--mechanism", "RSA-PKCS", "--input-file", path.join(dir, "digestinfo.bin"), "--output-file", path.join(dir, "raw.sig")]);
    await answerCode(daemon);
    const rawSigned = await raw;
    expect(rawSigned.code, rawSigned.stdout + rawSigned.stderr).toBe(0);
    const recovered = await openssl(["pkeyutl", "-verifyrecover", "-pubin", "-inkey", "pub.pem", "-in", "raw.sig"], { cwd: dir });
    expect(Buffer.from(recovered.stdout, "latin1").equals(digestInfo)).toBe(true);
    expect((await openssl(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "raw.sig", "data.txt"], { cwd: dir })).stdout).toContain("Verified OK");
  }, 90_000);

  it("answers what newer p11-kit clients send: frames in one write, attribute errors in-band, a length query, signing in parts", async () => {
    const dir = workdir();
    await pkcs11Tool(["--read-object", "--type", "cert", "--label", "Ayuntamiento de Ejemplo", "--output-file", path.join(dir, "cert.der")]);
    await openssl(["x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out", "pub.pem"], { cwd: dir });
    const client = await p11kitClient(socket, 2);
    try {
      expect(await client.negotiated).toBe(1);
      expect((await client.call(1, "ayyay", ay("PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1"), Buffer.from([0]), ay(Buffer.from([0])))).head()).toEqual({ id: 1, signature: "" });
      const [info, slots] = await client.pipelined([
        [3, ""],
        [4, "yfu", Buffer.from([1]), u32(0)],
      ]);
      expect(info!.head()).toEqual({ id: 3, signature: "vsusv" });
      info!.u8();
      info!.u8();
      expect(info!.array().toString()).toBe(`Tessera${" ".repeat(25)}`);
      expect(slots!.head()).toEqual({ id: 4, signature: "au" });
      expect([slots!.u8(), slots!.u32()]).toEqual([0, 1]); // a count query: one slot
      const opened = await client.call(10, "uu", u64(1), u64(0x6));
      opened.head();
      const session = opened.u64();
      expect((await client.call(18, "uuay", u64(session), u64(1), ay(PASSWORD))).head().id).toBe(18);
      await client.call(26, "uaA", u64(session), u32(1), u32(0), Buffer.from([1]), u32(8), u64(3)); // CKA_CLASS = CKO_PRIVATE_KEY
      const found = await client.call(27, "ufu", u64(session), u32(10));
      found.head();
      expect([found.u8(), found.u32()]).toEqual([1, 1]);
      const key = found.u64();
      await client.call(28, "u", u64(session));

      // CKA_MODULUS (a size query), CKA_VALUE (secret), CKA_LABEL in 2 bytes (too small): one reply, the first problem as rv.
      const attributes = await client.call(24, "uufA", u64(session), u64(key), u32(3), u32(0x120), u32(0), u32(0x11), u32(0), u32(0x3), u32(2));
      expect(attributes.head()).toEqual({ id: 24, signature: "aAu" });
      expect(attributes.u32()).toBe(3);
      expect([attributes.u32(), attributes.u8(), attributes.u32(), attributes.array().length]).toEqual([0x120, 1, 256, 256]);
      expect([attributes.u32(), attributes.u8()]).toEqual([0x11, 0]);
      expect([attributes.u32(), attributes.u8()]).toEqual([0x3, 0]);
      expect(attributes.u64()).toBe(0x11); // CKR_ATTRIBUTE_SENSITIVE

      // CKM_SHA256_RSA_PKCS as 0.26 sends it (no parameter marker), the data in two parts.
      expect((await client.call(42, "uMu", u64(session), u32(0x40), u64(key))).head().id).toBe(42);
      await client.call(44, "uay", u64(session), ay("Acta 2026/18: "));
      await client.call(44, "uay", u64(session), ay("aprobada\n"));
      const query = await client.call(45, "ufy", u64(session), u32(0));
      query.head();
      expect([query.u8(), query.u32()]).toEqual([0, 256]); // the length only; the operation goes on
      const final = client.call(45, "ufy", u64(session), u32(256));
      await answerCode(daemon);
      const signed = await final;
      expect(signed.head()).toEqual({ id: 45, signature: "ay" });
      expect(signed.u8()).toBe(1);
      writeFileSync(path.join(dir, "acta.sig"), signed.array());
      writeFileSync(path.join(dir, "acta.txt"), "Acta 2026/18: aprobada\n");
      expect((await openssl(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "acta.sig", "acta.txt"], { cwd: dir })).stdout).toContain("Verified OK");

      // What the card does not do is an error reply, CKR_FUNCTION_NOT_SUPPORTED (C_GenerateRandom).
      const random = await client.call(64, "ufy", u64(session), u32(16));
      expect(random.head()).toEqual({ id: 0, signature: "u" });
      expect(random.u64()).toBe(0x54);
      // After C_Logout a signature cannot begin.
      await client.call(19, "u", u64(session));
      const refused = await client.call(42, "uMu", u64(session), u32(0x40), u64(key));
      expect(refused.head().id).toBe(0);
      expect(refused.u64()).toBe(0x60); // CKR_KEY_HANDLE_INVALID: the private key is not visible
      await client.call(2, "");
    } finally {
      client.close();
    }
  }, 60_000);

  it("signs through OpenSSL's pkcs11 engine (libp11) with a PKCS#11 URI; openssl verifies the signature", async () => {
    const dir = workdir({ "factura.txt": "Factura 2026/0042 - 1.210,00 EUR\n" });
    const engine = { PKCS11_MODULE_PATH: MODULE, P11_KIT_SERVER_ADDRESS: `unix:path=${socket}` };
    const key = `pkcs11:token=Tessera%20Ane%20Etxeberria;object=Ayuntamiento%20de%20Ejemplo;type=private;pin-value=${PASSWORD}`;
    const signing = run("openssl", ["dgst", "-sha256", "-engine", "pkcs11", "-keyform", "engine", "-sign", key, "-out", path.join(dir, "factura.sig"), path.join(dir, "factura.txt")], { env: engine });
    await answerCode(daemon);
    const signed = await signing;
    expect(signed.code, signed.stdout + signed.stderr).toBe(0);
    const publicKey = await run("openssl", ["pkey", "-engine", "pkcs11", "-inform", "engine", "-pubin", "-in", "pkcs11:object=Ayuntamiento%20de%20Ejemplo;type=public", "-pubout", "-out", path.join(dir, "pub.pem")], { env: engine });
    expect(publicKey.code, publicKey.stderr).toBe(0);
    expect((await openssl(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "factura.sig", "factura.txt"], { cwd: dir })).stdout).toContain("Verified OK");
  }, 60_000);

  it("signs a PDF through NSS: pdfsig -add-signature with the card's certificate, then pdfsig finds it valid and trusted", async () => {
    const root = Buffer.from(await (await fetch(`${scene.t.baseUrl}/t/pro/pki/ca.pem`)).arrayBuffer());
    const dir = workdir({ "acta.pdf": await contract("Acta de la junta - Ayuntamiento de Ejemplo"), "root.pem": root });
    const nss = { P11_KIT_SERVER_ADDRESS: `unix:path=${socket}` };
    await run("certutil", ["-N", "-d", `sql:${dir}`, "--empty-password"]);
    await run("certutil", ["-A", "-d", `sql:${dir}`, "-n", "tessera-pro-root", "-t", "CT,C,C", "-i", path.join(dir, "root.pem")]);
    const added = await run("modutil", ["-dbdir", `sql:${dir}`, "-add", "Tessera virtual card", "-libfile", MODULE, "-force"], { env: nss });
    expect(added.code, added.stdout + added.stderr).toBe(0);
    const nicks = await run("pdfsig", ["-nssdir", `sql:${dir}`, "-nss-pwd", PASSWORD, "-list-nicks", path.join(dir, "acta.pdf")], { env: nss });
    expect(nicks.stdout).toContain("Tessera Ane Etxeberria:Ayuntamiento de Ejemplo");

    const signing = run("pdfsig", ["-nssdir", `sql:${dir}`, "-nss-pwd", PASSWORD, "-add-signature", "-nick", "Tessera Ane Etxeberria:Ayuntamiento de Ejemplo", "-reason", "Conforme", path.join(dir, "acta.pdf"), path.join(dir, "acta-signed.pdf")], { env: nss });
    // poppler signs twice (once to learn the signature's size, then the document): a code for each.
    await answerCode(daemon);
    await answerCode(daemon);
    const signed = await signing;
    expect(signed.code, signed.stdout + signed.stderr).toBe(0);
    const verdict = await run("pdfsig", ["-nssdir", `sql:${dir}`, path.join(dir, "acta-signed.pdf")]);
    expect(verdict.stdout).toContain("Signature Validation: Signature is Valid.");
    expect(verdict.stdout).toContain("Certificate Validation: Certificate is Trusted.");
    expect(verdict.stdout).toContain("Signer Certificate Common Name: Ane Etxeberria - 12345678Z");
  }, 90_000);

  it("signs a PDF on the desktop with an EC key (card sign): only the hash goes to signHash; pdfsig finds it valid", async () => {
    // Ane's second organisation, its key on P-256: `card sign` must choose, and is told which.
    const { organisation } = await import("../helpers/professionals.ts");
    const { credentialFor } = await import("../helpers/csc.ts");
    const { updatePolicy } = await import("../helpers/tenants.ts");
    const tenant = await updatePolicy(scene.t.store, "pro", (p) => {
      p.professionals = { ...p.professionals, keyAlgorithm: "EC-P256" };
    });
    const studio = await organisation(scene.t, "Estudio Etxeberria Arquitectos", "B48123459", [scene.ane]);
    await credentialFor(scene.t, tenant, scene.ane, studio, scene.ane, `${scene.t.baseUrl}/t/pro`);

    const document = await contract("Proyecto básico - Estudio Etxeberria");
    const dir = workdir({ "proyecto.pdf": document });
    const ambiguous = await runTessera(["card", "sign", path.join(dir, "proyecto.pdf")], { env });
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain("Several certificates can sign: choose one with --credential");

    const signing = spawnTessera(["card", "sign", path.join(dir, "proyecto.pdf"), "--credential", "Estudio", "--reason", "Visado"], { env, stdin: true });
    signing.proc.stdin!.write(`${PASSWORD}\n`);
    await answerCode(signing);
    expect(await signing.exited, signing.stderr()).toBe(0);
    expect(signing.stdout()).toContain(`Signed with the certificate of Estudio Etxeberria Arquitectos: ${path.join(dir, "proyecto-signed.pdf")}`);

    const root = Buffer.from(await (await fetch(`${scene.t.baseUrl}/t/pro/pki/ca.pem`)).arrayBuffer());
    writeFileSync(path.join(dir, "root.pem"), root);
    await run("certutil", ["-N", "-d", `sql:${dir}`, "--empty-password"]);
    await run("certutil", ["-A", "-d", `sql:${dir}`, "-n", "tessera-pro-root", "-t", "CT,C,C", "-i", path.join(dir, "root.pem")]);
    const verdict = await run("pdfsig", ["-nssdir", `sql:${dir}`, path.join(dir, "proyecto-signed.pdf")]);
    expect(verdict.stdout).toContain("Signature Validation: Signature is Valid.");
    expect(verdict.stdout).toContain("Certificate Validation: Certificate is Trusted.");
    expect(verdict.stdout).toContain("Signature Type: ETSI.CAdES.detached");
    // The server signed a hash; it never had the document (no signDoc).
    const audit = await scene.t.store.repos.audit.page("pro", 0, 500);
    const made = audit.filter((e) => e.type === "signature.created").map((e) => JSON.parse(e.data ?? "{}") as { method: string; organization: string });
    expect(made).toContainEqual(expect.objectContaining({ method: "signHash", organization: "Estudio Etxeberria Arquitectos" }));
    expect(made.some((m) => m.method === "signDoc")).toBe(false);
  }, 90_000);

  it("signs with CKM_ECDSA through a second daemon on its own socket; openssl verifies the signature", async () => {
    const socketPath = path.join(home, "elsewhere", "card.sock");
    const second = spawnTessera(["card", "serve", "--socket", socketPath], { env, stdin: true });
    try {
      await second.waitFor(/p11-kit on /);
      const tool = (args: string[]) => run("pkcs11-tool", ["--module", MODULE, ...args], { env: { P11_KIT_SERVER_ADDRESS: `unix:path=${socketPath}` } });
      const objects = await tool(["--login", "--pin", PASSWORD, "--list-objects", "--type", "privkey"]);
      expect(objects.stdout).toContain("Private Key Object; EC");
      const id = /label:\s+Estudio Etxeberria Arquitectos\s+ID:\s+([0-9a-f]+)/.exec(objects.stdout)?.[1];
      expect(id, objects.stdout).toBeDefined();
      const dir = workdir({ "plano.txt": "Plano 3: planta baja\n" });
      writeFileSync(path.join(dir, "plano.sha256"), createHash("sha256").update(readFileSync(path.join(dir, "plano.txt"))).digest());
      expect((await tool(["--read-object", "--type", "cert", "--id", id!, "--output-file", path.join(dir, "cert.der")])).code).toBe(0);
      await openssl(["x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out", "pub.pem"], { cwd: dir });
      const signing = tool(["--login", "--pin", PASSWORD, "--sign", "--id", id!, "--mechanism", "ECDSA", "--signature-format", "openssl", "--input-file", path.join(dir, "plano.sha256"), "--output-file", path.join(dir, "plano.sig")]);
      await answerCode(second);
      const signed = await signing;
      expect(signed.code, signed.stdout + signed.stderr).toBe(0);
      expect((await openssl(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "plano.sig", "plano.txt"], { cwd: dir })).stdout).toContain("Verified OK");
    } finally {
      await second.stop();
    }
  }, 60_000);

  it("refuses a wrong password at login (CKR_PIN_INCORRECT), and the server counts it", async () => {
    const refused = await pkcs11Tool(["--login", "--pin", "not-her-password", "--list-objects"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("CKR_PIN_INCORRECT");
    expect(daemon.stderr()).toContain("Invalid PIN");
  }, 30_000);

  it("signs out: the refresh token is revoked at the server and the session file is gone", async () => {
    const file = path.join(home, "config", "tessera", "card.json");
    const { refreshToken, metadata } = JSON.parse(readFileSync(file, "utf8")) as { refreshToken: string; metadata: { token_endpoint: string } };
    const out = await runTessera(["card", "logout"], { env });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain("Signed out.");
    expect(existsSync(file)).toBe(false);
    const refreshed = await fetch(metadata.token_endpoint, { method: "POST", body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: "tessera-card" }) });
    expect(refreshed.status).toBe(400);
    expect(((await refreshed.json()) as { error: string }).error).toBe("invalid_grant");
    const list = await runTessera(["card", "list"], { env });
    expect(list.code).toBe(1);
    expect(list.stderr).toContain("Not signed in");
  }, 30_000);

  it("answers a PKCS#11 error, not a hang, when the server is out of reach; card list says so", async () => {
    await scene.t.close();
    closed = true;
    const slots = await pkcs11Tool(["--login", "--pin", PASSWORD, "--list-objects"]);
    expect(slots.code).not.toBe(0);
    expect(slots.stdout + slots.stderr).toContain("No slot with a token was found");
    expect(daemon.stderr()).toContain("Cannot reach");
  }, 60_000);
});
