import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PDF, rgb, type Signer } from "@libpdf/core";
import { afterEach, describe, expect, it } from "vitest";
import { cscScene } from "../helpers/csc.ts";
import { openssl, run, workdir } from "../helpers/pki.ts";

let scene: Awaited<ReturnType<typeof cscScene>> | undefined;
afterEach(async () => {
  await scene?.t.close();
  scene = undefined;
});

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const SHA256 = "2.16.840.1.101.3.4.2.1";
const digestOf = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64");

/** A one-page PDF, as a professional would bring one. */
async function contract(text: string): Promise<Buffer> {
  const pdf = PDF.create();
  const page = pdf.addPage({ size: "a4" });
  page.drawText(text, { x: 50, y: 750, size: 14, color: rgb(0, 0, 0) });
  return Buffer.from(await pdf.save());
}

/**
 * pdfsig's verdict on a signed PDF, with an NSS database that trusts the tenant's root (pdfsig
 * checks the chain in NSS), and the CMS of its first signature as openssl prints it.
 */
async function pdfsigOf(signed: Buffer) {
  const root = Buffer.from(await (await fetch(`${scene!.t.baseUrl}/t/pro/pki/ca.pem`)).arrayBuffer());
  const dir = workdir({ "signed.pdf": signed, "root.pem": root });
  await run("certutil", ["-N", "-d", `sql:${dir}`, "--empty-password"]);
  await run("certutil", ["-A", "-d", `sql:${dir}`, "-n", "tessera-pro-root", "-t", "CT,C,C", "-i", path.join(dir, "root.pem")]);
  const verdict = await run("pdfsig", ["-nssdir", `sql:${dir}`, path.join(dir, "signed.pdf")]);
  await run("pdfsig", ["-dump", path.join(dir, "signed.pdf")], { cwd: dir });
  const dumped = readdirSync(dir).find((f) => f.endsWith(".sig0") || f.includes("sig0"))!;
  const cms = (await openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", dumped], { cwd: dir })).stdout;
  return { text: verdict.stdout + verdict.stderr, cms };
}

describe("the CSC API v2: signed documents", () => {
  it("makes PAdES B-T with signDoc: pdfsig finds it valid and trusted, with signing-certificate-v2 and a time-stamp", async () => {
    scene = await cscScene();
    const { call, authorize, credentialId } = scene;
    const document = await contract("Contrato de servicios - Ayuntamiento de Ejemplo");
    const sad = await authorize([digestOf(document)]);
    const answer = await call("signatures/signDoc", { credentialID: credentialId, SAD: sad, hashAlgorithmOID: SHA256, documents: [{ document: document.toString("base64"), signature_format: "P", conformance_level: "Ades-B-T", signAlgo: ECDSA_SHA256 }] });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const signed = Buffer.from((answer.json.DocumentWithSignature as string[])[0]!, "base64");
    // An incremental update: the original bytes come first, unchanged.
    expect(signed.subarray(0, document.length).equals(document)).toBe(true);
    const { text, cms } = await pdfsigOf(signed);
    expect(text, text).toContain("Signature Validation: Signature is Valid.");
    expect(text, text).toContain("Certificate Validation: Certificate is Trusted.");
    expect(text).toContain("Signature Type: ETSI.CAdES.detached");
    expect(text).toContain("Signer Certificate Common Name: Ane Etxeberria - 12345678Z");
    expect(cms).toContain("id-smime-aa-signingCertificateV2");
    expect(cms).toContain("id-smime-aa-timeStampToken");
    // The SAD was for that document: another one is not signed with it.
    const other = await contract("Otro documento");
    const refused = await call("signatures/signDoc", { credentialID: credentialId, SAD: sad, documents: [{ document: other.toString("base64"), signature_format: "P", signAlgo: ECDSA_SHA256 }] });
    expect(refused).toMatchObject({ status: 400, json: { error: "invalid_request" } });
    expect((await call("signatures/signDoc", { credentialID: credentialId, SAD: sad, documents: [{ document: "bm90IGEgcGRm", signature_format: "X", signAlgo: ECDSA_SHA256 }] })).json.error_description).toContain("signature_format");
  });

  it("makes PAdES B-T on the client's side: the hash to signHash, the signature embedded, the time-stamp from the API", async () => {
    scene = await cscScene();
    const { call, authorize, credentialId } = scene;
    const info = await call("credentials/info", { credentialID: credentialId, certificates: "chain" });
    const [leaf, ...chain] = (info.json.cert as { certificates: string[] }).certificates.map((b64) => new Uint8Array(Buffer.from(b64, "base64")));
    const signedHashes: string[] = [];
    // A CSC client's signer: what the PDF library asks signed is hashed here, authorised and signed there.
    const signer: Signer = {
      certificate: leaf!,
      certificateChain: chain,
      keyType: "EC",
      signatureAlgorithm: "ECDSA",
      async sign(data) {
        const hash = digestOf(data);
        const sad = await authorize([hash]);
        const answer = await call("signatures/signHash", { credentialID: credentialId, SAD: sad, hashes: [hash], hashAlgorithmOID: SHA256, signAlgo: ECDSA_SHA256 });
        expect(answer.status, JSON.stringify(answer.json)).toBe(200);
        signedHashes.push(hash);
        return new Uint8Array(Buffer.from((answer.json.signatures as string[])[0]!, "base64"));
      },
    };
    const tsa = {
      async timestamp(digest: Uint8Array) {
        const answer = await call("signatures/timestamp", { hash: Buffer.from(digest).toString("base64"), hashAlgorithmOID: SHA256 });
        return new Uint8Array(Buffer.from(answer.json.timestamp as string, "base64"));
      },
    };
    const pdf = await PDF.load(await contract("Acta de la reunión"));
    const { bytes } = await pdf.sign({ signer, level: "B-T", timestampAuthority: tsa, reason: "Conforme" });
    expect(signedHashes).toHaveLength(1);
    const { text, cms } = await pdfsigOf(Buffer.from(bytes));
    expect(text).toContain("Signature Validation: Signature is Valid.");
    expect(text).toContain("Certificate Validation: Certificate is Trusted.");
    expect(cms).toContain("id-smime-aa-signingCertificateV2");
    expect(cms).toContain("id-smime-aa-timeStampToken");
  });

  it("makes a detached CAdES B-T signature that openssl cms -verify accepts against the tenant's chain", async () => {
    scene = await cscScene();
    const { call, authorize, credentialId, t } = scene;
    const content = Buffer.from("Factura 2026/0042 - 1.210,00 EUR\n");
    const sad = await authorize([digestOf(content)], { numSignatures: 1 });
    const answer = await call("signatures/signDoc", { credentialID: credentialId, SAD: sad, documents: [{ document: content.toString("base64"), signature_format: "C", conformance_level: "Ades-B-T", signed_envelope_property: "Detached", signAlgo: ECDSA_SHA256 }] });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const chain = Buffer.from(await (await fetch(`${t.baseUrl}/t/pro/pki/chain.pem`)).arrayBuffer());
    const dir = workdir({ "factura.txt": content, "chain.pem": chain, "sig.p7s": Buffer.from((answer.json.SignatureObject as string[])[0]!, "base64") });
    const verified = await openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s", "-content", "factura.txt", "-CAfile", "chain.pem", "-purpose", "any", "-out", "/dev/null"], { cwd: dir });
    expect(verified.stderr).toContain("Verification successful");
    const printed = (await openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.p7s"], { cwd: dir })).stdout;
    expect(printed).toContain("id-smime-aa-signingCertificateV2");
    expect(printed).toContain("id-smime-aa-timeStampToken");
    expect(printed).toContain("signingTime");
    // Another content does not verify against it.
    writeFileSync(path.join(dir, "other.txt"), "Factura 2026/0042 - 9.999,00 EUR\n");
    expect((await openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s", "-content", "other.txt", "-CAfile", "chain.pem", "-purpose", "any", "-out", "/dev/null"], { cwd: dir })).stderr).not.toContain("Verification successful");
    expect(readFileSync(path.join(dir, "sig.p7s")).length).toBeGreaterThan(500);
  });
});
