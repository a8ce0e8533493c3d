/**
 * Remote signing's speed (issue 17): CSC API v2 signatures/signHash per second, one hash per
 * request, as a CSC client sends them once its signer has authorised a batch (credentials/authorize
 * with the password and an SMS code: one SAD for many hashes). Each request checks the access
 * token (ES256 JWT), loads the credential, spends the hash from the SAD (a database write), opens
 * the key under the signer's sole control (the SAD's share and the master key), signs the digest
 * (ECDSA P-256, on the signing workers) and writes the audit entry. Bound: the raw P-256 digest
 * signature rate of the same code (@noble/curves) on one thread, measured in this run.
 *
 * The signer is the demo's Ane (DNI 12345678Z), signed in through the pro tenant's provider by a
 * client registered for the API, her codes read from the development outbox.
 */
import { createHash, randomBytes } from "node:crypto";
import { Browser, REDIRECT_URI } from "./browser.ts";
import { costed, hammer, type Load, type Measure, measured } from "./load.ts";
import { cli, type Server, type Target } from "./server.ts";

/** The demo's signer (Ane), her signing password and the mobile her codes go to. */
export const DEMO_SIGNER = { dni: "12345678Z", password: "Tessera-Demo-2026!", mobile: "+34600000001" } as const;
const { dni: DNI, password: PASSWORD, mobile: MOBILE } = DEMO_SIGNER;
const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

/** The newest code sent to the demo signer's mobile, as the development outbox lists it (newest first). */
async function lastCode(baseUrl: string, after: number): Promise<string> {
  for (let tries = 0; tries < 50; tries++) {
    const listed = (await (await fetch(`${baseUrl}/t/pro/dev/outbox.json?to=${encodeURIComponent(MOBILE)}`)).json()) as { text: string }[];
    if (listed.length > after) return /\b(\d{6})\b/.exec(listed[0]!.text)![1]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no code arrived");
}

const sent = async (baseUrl: string) => ((await (await fetch(`${baseUrl}/t/pro/dev/outbox.json?to=${encodeURIComponent(MOBILE)}`)).json()) as unknown[]).length;

/** Where the signer's SMS codes can be read: how many were sent so far, and the newest once more than `after` were. */
export interface SignerCodes {
  sent(): Promise<number>;
  newest(after: number): Promise<string>;
}

/** The development outbox's list of what went to the signer's mobile. */
const devOutboxCodes = (baseUrl: string): SignerCodes => ({ sent: () => sent(baseUrl), newest: (after) => lastCode(baseUrl, after) });

/** The authorization code flow for the API (scope service), as the signer's browser goes through it. */
export async function signerAccessToken(baseUrl: string, client: { client_id: string; client_secret: string }, csc: string, codes: SignerCodes, browser = new Browser(baseUrl)): Promise<string> {
  const issuer = `${baseUrl}/t/pro`;
  const verifier = randomBytes(32).toString("base64url");
  const start = new URL(`${issuer}/oauth2/authorize`);
  start.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
    scope: "openid service",
    resource: csc,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: randomBytes(8).toString("hex"),
  }).toString();
  let url = start.href;
  let form: Record<string, string> | undefined;
  for (let hops = 0; hops < 20; hops++) {
    if (url.startsWith(REDIRECT_URI)) {
      const code = new URL(url).searchParams.get("code")!;
      const res = await fetch(`${issuer}/oauth2/token`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier, resource: csc }).toString(),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    }
    const before = await codes.sent();
    const res = await browser.fetch(url, form ? { form } : {});
    form = undefined;
    const location = res.headers.get("location");
    if (location && res.status >= 300 && res.status < 400) {
      url = new URL(location, url).href;
      continue;
    }
    const html = await res.text();
    const path = new URL(url).pathname;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] ?? "";
    if (path.endsWith("/login")) form = { identifier: DNI, password: PASSWORD, level: "2", return_to: new URL(url).searchParams.get("return_to") ?? "" };
    else if (/\/login\/[^/]+$/.test(path) && !/notice=login\.sms_sent/.test(url)) form = { csrf_token: csrf, step: "second_factor", method: "sms", send: "on" };
    else if (/\/login\/[^/]+$/.test(path)) form = { csrf_token: csrf, step: "second_factor", method: "sms", code: await codes.newest(before - 1) };
    else if (/action="([^"]+\/consent)"/.test(html)) {
      url = new URL(/action="([^"]+\/consent)"/.exec(html)![1]!, url).href;
      form = { csrf_token: csrf, decision: "allow" };
      continue;
    } else throw new Error(`unexpected page ${res.status} at ${url}`);
    url = new URL(path, url).href;
  }
  throw new Error("the sign-in did not end");
}

export async function measureSigning(target: Target, server: Server, options: { connections: number; p256: number }): Promise<Measure[]> {
  const csc = `${server.baseUrl}/t/pro/csc/v2`;
  const client = JSON.parse(await cli(target, ["client", "create", "--tenant", "pro", "--json", "--name", "Bench signer", "--redirect-uri", REDIRECT_URI, "--resource", csc])) as { client_id: string; client_secret: string };
  const token = await signerAccessToken(server.baseUrl, client, csc, devOutboxCodes(server.baseUrl));
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const call = async (path: string, body: object) => fetch(`${csc}/${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const credentialID = ((await (await call("credentials/list", {})).json()) as { credentialIDs: string[] }).credentialIDs[0]!;

  /** A SAD for `count` fresh hashes (codes go at most once a minute: wait for the next). */
  const authorised = async (count: number) => {
    const hashes = Array.from({ length: count }, () => randomBytes(32).toString("base64"));
    const before = await sent(server.baseUrl);
    for (;;) {
      const res = await call("credentials/sendOTP", { credentialID });
      if (res.status === 204) break;
      if (res.status !== 429) throw new Error(`sendOTP: ${res.status} ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const otp = await lastCode(server.baseUrl, before);
    const res = await call("credentials/authorize", { credentialID, numSignatures: count, hashes, authData: [{ id: "PIN", value: PASSWORD }, { id: "OTP", value: otp }] });
    const { SAD } = (await res.json()) as { SAD?: string };
    if (!SAD) throw new Error(`authorize: ${res.status}`);
    return { SAD, hashes };
  };
  const signHash = async (count: number, rate?: number): Promise<Load> => {
    const { SAD, hashes } = await authorised(count);
    let next = 0;
    return costed(server.baseUrl, () => hammer({
      url: `${csc}/signatures/signHash`,
      method: "POST",
      headers,
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ credentialID, SAD, hashes: [hashes[next++ % hashes.length]], signAlgo: ECDSA_SHA256 }) }),
      expect: [200],
      connections: options.connections,
      amount: count,
      ...(rate ? { rate } : {}),
    }));
  };
  // The demo tenant's SAD holds at most 1000 hashes: one SAD for the maximum, another at half of it.
  const max = await signHash(1000);
  const half = await signHash(Math.min(1000, Math.max(200, Math.round(max.perSecond * 2))), max.perSecond / 2);
  return [measured("CSC signHash (one hash per request: token, SAD spent, key unwrapped, ECDSA P-256, audited)", target.engine, max, half, { primitive: "P-256 digest sign (noble)", rate: options.p256, target: 0.8 })];
}
