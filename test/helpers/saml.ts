import "reflect-metadata";
import { execFile } from "node:child_process";
import { webcrypto } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { SAML, type SamlConfig } from "@node-saml/node-saml";
import * as x509 from "@peculiar/x509";
import { registerServiceProvider } from "../../src/federation/saml/registry.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { OidcTestApp } from "./oidc.ts";

x509.cryptoProvider.set(globalThis.crypto);

export const SP_ENTITY = "https://sp.example.it/metadata";
export const ACS = "http://localhost:4200/acs";
export const ACS_2 = "http://localhost:4200/acs-2";
export const SLO = "http://localhost:4200/slo";
export const TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
export const SPID_L = (n: number) => `https://www.spid.gov.it/SpidL${n}`;

export interface KeyPair {
  privateKeyPem: string;
  certificatePem: string;
  /** The certificate's DER in Base64, as metadata carries it. */
  certificateBase64: string;
}

/** An RSA key and self-signed certificate, as a service provider has. */
export async function newKeyPair(bits = 2048, name = "CN=sp.example.it, O=Comune di Esempio, C=IT"): Promise<KeyPair> {
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name, notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 365 * 86_400_000), keys, signingAlgorithm: alg });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return {
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`,
    certificatePem: cert.toString("pem"),
    certificateBase64: cert.toString("base64"),
  };
}

export interface SpMetadataInput {
  entityId?: string;
  certificateBase64: string;
  authnRequestsSigned?: string | null;
  acs?: { index: number; location: string; isDefault?: boolean; binding?: string }[];
  attributeSets?: { index: number; name: string; attributes: string[] }[];
  slo?: { location: string; binding?: string }[];
}

const POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/** A SPID service provider's metadata (Regole tecniche §1.3.1). */
export function spMetadata(input: SpMetadataInput): string {
  const acs = input.acs ?? [
    { index: 0, location: ACS, isDefault: true },
    { index: 1, location: ACS_2 },
  ];
  const sets = input.attributeSets ?? [
    { index: 0, name: "Servizi online", attributes: ["spidCode", "name", "familyName", "fiscalNumber", "email", "dateOfBirth"] },
    { index: 1, name: "Solo codice fiscale", attributes: ["fiscalNumber"] },
  ];
  const slo = input.slo ?? [{ location: SLO }];
  const signed = input.authnRequestsSigned === null ? "" : ` AuthnRequestsSigned="${input.authnRequestsSigned ?? "true"}"`;
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${input.entityId ?? SP_ENTITY}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"${signed} WantAssertionsSigned="true">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${input.certificateBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
${slo.map((s) => `    <md:SingleLogoutService Binding="${s.binding ?? POST}" Location="${s.location}"/>`).join("\n")}
    <md:NameIDFormat>${TRANSIENT}</md:NameIDFormat>
${acs.map((a) => `    <md:AssertionConsumerService index="${a.index}" Binding="${a.binding ?? POST}" Location="${a.location}"${a.isDefault ? ' isDefault="true"' : ""}/>`).join("\n")}
${sets
  .map(
    (s) => `    <md:AttributeConsumingService index="${s.index}"><md:ServiceName xml:lang="it">${s.name}</md:ServiceName>
${s.attributes.map((a) => `      <md:RequestedAttribute Name="${a}"/>`).join("\n")}
    </md:AttributeConsumingService>`,
  )
  .join("\n")}
  </md:SPSSODescriptor>
  <md:Organization><md:OrganizationName xml:lang="it">Comune di Esempio</md:OrganizationName><md:OrganizationDisplayName xml:lang="it">Comune di Esempio</md:OrganizationDisplayName><md:OrganizationURL xml:lang="it">https://sp.example.it</md:OrganizationURL></md:Organization>
</md:EntityDescriptor>`;
}

export async function registerSp(t: Pick<OidcTestApp, "store" | "deps">, tenantId: string, metadata: string) {
  const tenant = (await findTenant(t.store.repos, tenantId))!;
  return registerServiceProvider(t.deps, tenant, metadata, { actor: "test" });
}

/** The IdP's signing certificate, read from its published metadata. */
export async function idpCertificate(baseUrl: string, tenant: string): Promise<{ metadata: string; certificatePem: string }> {
  const metadata = await (await fetch(`${baseUrl}/t/${tenant}/saml/metadata`)).text();
  const base64 = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata)![1]!;
  return { metadata, certificatePem: `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n` };
}

/** node-saml as a SPID service provider of the tenant: signed requests, SHA-256, transient NameID. */
export async function nodeSamlSp(baseUrl: string, tenant: string, keys: KeyPair, options: Partial<SamlConfig> = {}): Promise<SAML> {
  const { certificatePem } = await idpCertificate(baseUrl, tenant);
  return new SAML({
    entryPoint: `${baseUrl}/t/${tenant}/saml/sso`,
    logoutUrl: `${baseUrl}/t/${tenant}/saml/slo`,
    issuer: SP_ENTITY,
    callbackUrl: ACS,
    idpCert: certificatePem,
    idpIssuer: `${baseUrl}/t/${tenant}`,
    audience: SP_ENTITY,
    privateKey: keys.privateKeyPem,
    publicCert: keys.certificatePem,
    signatureAlgorithm: "sha256",
    digestAlgorithm: "sha256",
    identifierFormat: TRANSIENT,
    authnContext: [SPID_L(1)],
    racComparison: "minimum",
    attributeConsumingServiceIndex: "0",
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: 2000,
    ...options,
  });
}

/** The fields of the auto-posting form a page carries, and where it posts. */
export function postedForm(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form id="saml-post" method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error(`no SAML POST form on the page:\n${html.slice(0, 1500)}`);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
  return { action: form[1]!.replace(/&amp;/g, "&"), fields };
}

const run = promisify(execFile);

/** Debian's xmlsec1 verifying `xml`'s signature over the element of type `idNode` with `certificatePem`. */
export async function xmlsecVerify(xml: string, certificatePem: string, idNode: string): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-xmlsec-"));
  writeFileSync(path.join(dir, "doc.xml"), xml);
  writeFileSync(path.join(dir, "cert.pem"), certificatePem);
  try {
    const { stdout, stderr } = await run("xmlsec1", ["--verify", "--enabled-reference-uris", "same-doc", "--pubkey-cert-pem", path.join(dir, "cert.pem"), "--id-attr:ID", idNode, path.join(dir, "doc.xml")]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}
