/**
 * SAML single sign-on throughput: signed SPID Responses per second from a real Tessera server (a
 * child process on SQLite, as `npm start` runs it) to a service provider whose user already has
 * a level-1 session and has agreed to release the attributes: each request is a fresh, signed
 * HTTP-Redirect AuthnRequest (unique ID: replays are refused), verified, checked, recorded, and
 * answered with an RSA-SHA256-signed assertion in an auto-posting form. Beside it, measured in
 * the same run: the raw RSA-2048 signing rate on one thread and on every core (libuv's pool,
 * which Tessera signs on), and xml-crypto's generic path signing the same assertion.
 *
 *   npm run bench:saml [-- --requests 12000 --connections 16]
 *
 * Prints a Markdown table (bench/README.md keeps the latest) and the figures as JSON.
 */
import { type ChildProcess } from "node:child_process";
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { deflateRawSync } from "node:zlib";
import { SAML } from "@node-saml/node-saml";
import autocannon from "autocannon";
import { SignedXml } from "xml-crypto";
import { successResponse } from "../src/federation/saml/response.ts";
import { newKeyPair, spMetadata, SP_ENTITY, TRANSIENT } from "../test/helpers/saml.ts";
import { citizens, cli, tessera } from "./server.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "12000" },
    connections: { type: "string", default: "16" },
  },
});
const REQUESTS = Number(args.requests);
const CONNECTIONS = Number(args.connections);
const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

// ---------------------------------------------------------------------------------------------
// Raw rates

/** A SignedInfo-sized input: what each assertion's signature covers. */
const SIGNED_INFO = Buffer.from("s".repeat(900));

function rsaRateOneThread(seconds: number): number {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) sign("sha256", SIGNED_INFO, privateKey);
    n += 20;
  }
  return n / seconds;
}

/** RSA-2048 signatures per second on libuv's thread pool, as many in flight as it has threads. */
async function rsaRatePool(seconds: number): Promise<number> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const one = () => new Promise<void>((resolve, reject) => sign("sha256", SIGNED_INFO, privateKey, (e) => (e ? reject(e) : resolve())));
  await Promise.all(
    Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, async () => {
      while (performance.now() < end) {
        await one();
        n++;
      }
    }),
  );
  return n / seconds;
}

/** xml-crypto's generic path: parse, canonicalise and sign a SPID assertion, on one thread. */
function xmlCryptoRate(seconds: number, assertion: string): number {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ format: "pem", type: "pkcs8" });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    const sig = new SignedXml({ privateKey: pem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#" });
    sig.addReference({
      xpath: "/*",
      transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"],
      digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
    });
    sig.computeSignature(assertion, { location: { reference: "/*/*[local-name(.)='Issuer']", action: "after" } });
    sig.getSignedXml();
    n++;
  }
  return n / seconds;
}

/** Tessera's builder alone (federation/saml/response.ts), a whole signed Response each, on the pool. */
async function builderRate(seconds: number): Promise<number> {
  const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const credential = { id: "bench", privateKey, publicKey: createPublicKey(privateKey), certificate: "MIIB", notAfter: 0 };
  const input = {
    idpEntityId: "https://idp.example.it/t/national",
    spEntityId: SP_ENTITY,
    destination: "https://sp.example.it/acs",
    inResponseTo: "_request",
    validForMs: 300_000,
    nameId: "_name",
    sessionIndex: "_session",
    level: 1 as const,
    attributes: [
      { name: "name" as const, value: "Mario" },
      { name: "familyName" as const, value: "Rossi" },
      { name: "fiscalNumber" as const, value: "TINIT-RSSMRA80A01H501U" },
      { name: "dateOfBirth" as const, value: "1980-01-01" },
    ],
  };
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, async () => {
      while (performance.now() < end) {
        const now = Date.now();
        await successResponse({ ...input, now, authnInstant: now }, credential);
        n++;
      }
    }),
  );
  return n / seconds;
}

// ---------------------------------------------------------------------------------------------
// A service provider and its user

interface Sp {
  privateKeyPem: string;
  sso: string;
}

/** A signed HTTP-Redirect AuthnRequest URL (SPID: L1 minimum, attribute set 0, transient NameID). */
function authnRequestUrl(sp: Sp, now: number): Promise<string> {
  const id = `_${randomBytes(16).toString("hex")}`;
  const xml = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z")}" Destination="${sp.sso}" AssertionConsumerServiceIndex="0" AttributeConsumingServiceIndex="0"><saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" NameQualifier="${SP_ENTITY}">${SP_ENTITY}</saml:Issuer><samlp:NameIDPolicy Format="${TRANSIENT}"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL1</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>`;
  const query = `SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString("base64"))}&RelayState=bench&SigAlg=${encodeURIComponent(RSA_SHA256)}`;
  const key = createPrivateKey(sp.privateKeyPem);
  return new Promise((resolve, reject) =>
    sign("sha256", Buffer.from(query), key, (error, signature) => (error ? reject(error) : resolve(`${sp.sso}?${query}&Signature=${encodeURIComponent(signature.toString("base64"))}`))),
  );
}

/** Signs the user in (level 1) and agrees to the attribute release once, as a browser would; the session cookie. */
async function sessionFor(baseUrl: string, sp: Sp, user: { identifier: string; password: string }): Promise<string> {
  const login = await fetch(`${baseUrl}/t/national/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: baseUrl },
    body: new URLSearchParams({ identifier: user.identifier, password: user.password, level: "1" }).toString(),
  });
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith("tessera_session="))?.split(";")[0];
  if (!cookie) throw new Error(`sign-in failed: ${login.status}`);
  const consent = await fetch(await authnRequestUrl(sp, Date.now()), { headers: { cookie } });
  const page = await consent.text();
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(page)?.[1];
  const action = /action="([^"]+\/consent)"/.exec(page)?.[1];
  if (!csrf || !action) throw new Error(`no consent page:\n${page.slice(0, 800)}`);
  const agreed = await fetch(new URL(action, baseUrl), {
    method: "POST",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: baseUrl },
    body: new URLSearchParams({ csrf_token: csrf, decision: "allow" }).toString(),
  });
  if (!(await agreed.text()).includes('name="SAMLResponse"')) throw new Error("the consent did not lead to a response");
  return cookie;
}

// ---------------------------------------------------------------------------------------------

const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-bench-saml-"));
let child: ChildProcess | undefined;
try {
  const rsa1 = rsaRateOneThread(3);
  const rsaPool = await rsaRatePool(3);
  const builder = await builderRate(3);

  const server = await tessera(dataDir);
  child = server.child;
  const keys = await newKeyPair();
  writeFileSync(path.join(dataDir, "sp.xml"), spMetadata({ certificateBase64: keys.certificateBase64 }));
  await cli(dataDir, ["sp", "add", "--tenant", "national", "--metadata", path.join(dataDir, "sp.xml")]);
  const sp: Sp = { privateKeyPem: keys.privateKeyPem, sso: `${server.baseUrl}/t/national/saml/sso` };
  const [user] = await citizens(dataDir, 1);
  const cookie = await sessionFor(server.baseUrl, sp, user!);

  // One answer checked end to end by an independent SP library before the load.
  const idpCert = /<ds:X509Certificate>([^<]+)</.exec(await (await fetch(`${server.baseUrl}/t/national/saml/metadata`)).text())![1]!;
  const sample = await (await fetch(await authnRequestUrl(sp, Date.now()), { headers: { cookie } })).text();
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(sample)![1]!;
  const nodeSaml = new SAML({ issuer: SP_ENTITY, callbackUrl: "http://localhost:4200/acs", idpCert: `-----BEGIN CERTIFICATE-----\n${idpCert}\n-----END CERTIFICATE-----`, audience: SP_ENTITY, wantAssertionsSigned: true, wantAuthnResponseSigned: false });
  const { profile } = await nodeSaml.validatePostResponseAsync({ SAMLResponse: samlResponse });
  const assertion = profile!.getAssertionXml!().replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
  const xmlCrypto = xmlCryptoRate(3, assertion);

  // Every request unique and signed before the clock starts (replays are refused, and the
  // IssueInstant must be within two minutes).
  const now = Date.now();
  const urls = await Promise.all(Array.from({ length: REQUESTS }, () => authnRequestUrl(sp, now)));
  const paths = urls.map((u) => u.slice(server.baseUrl.length));
  let next = 0;
  const started = performance.now();
  const result = await autocannon({
    url: server.baseUrl,
    connections: CONNECTIONS,
    amount: REQUESTS,
    headers: { cookie },
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length]! }) }],
  });
  const seconds = (performance.now() - started) / 1000;
  const ok = result["2xx"];
  const perSecond = ok / seconds;
  const rows = [
    ["raw RSA-2048 signatures, 1 thread", rsa1.toFixed(1), ""],
    [`raw RSA-2048 signatures, thread pool (${cpus().length} cores)`, rsaPool.toFixed(1), ""],
    ["Tessera's response builder alone (signed Response), thread pool", `${builder.toFixed(1)} (${(builder / rsaPool).toFixed(2)} × pool RSA)`, ""],
    ["xml-crypto signing the same assertion, 1 thread", `${xmlCrypto.toFixed(1)} (${((xmlCrypto / rsa1) * 100).toFixed(1)} % of 1-thread RSA)`, ""],
    [
      "signed SSO responses (HTTP-Redirect request → POST form)",
      `${perSecond.toFixed(1)} (${(perSecond / rsa1).toFixed(2)} × 1-thread RSA; ${(perSecond / rsaPool).toFixed(2)} × pool)`,
      `${result.latency.p50} / ${result.latency.p99}`,
    ],
  ];
  console.log(`\n| | per second | p50 / p99 ms |\n|---|---|---|\n${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}\n`);
  console.log(`${ok} responses, ${result.non2xx} non-2xx, ${result.errors} errors, ${CONNECTIONS} connections, ${seconds.toFixed(1)} s`);
  console.log(JSON.stringify({ rsa1, rsaPool, builder, xmlCrypto, perSecond, ratioOneThread: perSecond / rsa1, ratioPool: perSecond / rsaPool, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors }));
} finally {
  child?.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
