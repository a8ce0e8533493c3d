/**
 * Simulated browsers and relying parties for the benchmarks: what a person does on Tessera's
 * pages (the sign-in form, the authenticator code, the consent) and what an OpenID Connect client
 * or a SAML service provider sends and receives, over plain HTTP with `fetch`.
 */
import { createHash, createPrivateKey, randomBytes, sign } from "node:crypto";
import { deflateRawSync } from "node:zlib";
import { TOTP, Secret } from "otpauth";
import type { Dispatcher } from "undici";
import { SP_ENTITY, TRANSIENT } from "../test/helpers/saml.ts";
import { identifierOf, PASSWORD, totpSecret } from "./identities.ts";
import type { Hammer } from "./load.ts";

export const REDIRECT_URI = "http://localhost:9/callback";
const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

export interface Client {
  id: string;
  secret: string;
}

interface Page {
  url: string;
  status: number;
  html: string;
}

/** What to do on a page: send a form somewhere, or stop with a value. */
type Next<T> = { post: string; form: Record<string, string> } | { done: T };

export class Browser {
  readonly #jar = new Map<string, string>();
  /** `via`: connections of its own (an undici Agent), e.g. from a source address of its own. */
  constructor(
    readonly baseUrl: string,
    private readonly via?: Dispatcher,
  ) {}

  get cookie(): string {
    return [...this.#jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async fetch(url: string, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const res = await fetch(url, {
      method: init.form ? "POST" : "GET",
      redirect: "manual",
      headers: {
        cookie: this.cookie,
        accept: "text/html",
        ...(init.form ? { origin: this.baseUrl, "content-type": "application/x-www-form-urlencoded" } : {}),
        ...init.headers,
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
      ...(this.via ? { dispatcher: this.via } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      this.#jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }

  /**
   * Follows redirects from `url` (a form post first if given); at every page `decide` says what
   * to send next, or the result. `stopAt`: a URL outside Tessera that ends the walk (the relying
   * party's redirect URI), handed to `decide` unfetched.
   */
  async walk<T>(url: string, form: Record<string, string> | undefined, decide: (page: Page) => Next<T>, stopAt?: string): Promise<T> {
    for (let hops = 0; hops < 16; hops++) {
      if (stopAt && url.startsWith(stopAt)) {
        const next = decide({ url, status: 0, html: "" });
        if ("done" in next) return next.done;
        throw new Error(`nothing to do at ${url}`);
      }
      const res = await this.fetch(url, form ? { form } : {});
      const location = res.headers.get("location");
      if (location && res.status >= 300 && res.status < 400) {
        await res.arrayBuffer();
        url = new URL(location, url).href;
        form = undefined;
        continue;
      }
      const next = decide({ url, status: res.status, html: await res.text() });
      if ("done" in next) return next.done;
      url = new URL(next.post, url).href;
      form = next.form;
    }
    throw new Error(`too many hops from ${url}`);
  }
}

/** What a person types, as each of Tessera's pages asks for it; undefined for a page it does not know. */
function personOnPage(n: number, page: Page): Next<never> | undefined {
  const path = new URL(page.url).pathname;
  if (page.status === 200 && path.endsWith("/login")) {
    const query = new URL(page.url).searchParams;
    return { post: path, form: { identifier: identifierOf(n), password: PASSWORD, level: query.get("level") ?? "1", return_to: query.get("return_to") ?? "" } };
  }
  if (page.status === 200 && /\/login\/[^/]+$/.test(path) && page.html.includes('name="code"')) {
    const code = new TOTP({ secret: Secret.fromBase32(totpSecret(n)), digits: 6, period: 30, algorithm: "SHA1" }).generate();
    return { post: path, form: { csrf_token: field(page.html, "csrf_token"), step: "second_factor", method: "totp", code } };
  }
  if (page.status === 200 && path.includes("/authorize/")) return { post: `${path}/consent`, form: { decision: "allow" } };
  if (page.status === 200 && page.html.includes('name="decision"') && /action="([^"]+\/consent)"/.test(page.html)) {
    return { post: /action="([^"]+\/consent)"/.exec(page.html)![1]!, form: { csrf_token: field(page.html, "csrf_token"), decision: "allow" } };
  }
  return undefined;
}

function field(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
  if (!value) throw new Error(`no ${name} on the page`);
  return value;
}

function unexpected(page: Page): never {
  const said = /role="alert"[^>]*>([\s\S]*?)<\/(?:div|section|p)>/.exec(page.html)?.[1]?.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
  throw new Error(`unexpected ${page.status} at ${page.url}: ${said ?? page.html.slice(0, 300)}`);
}

/**
 * Password logins as autocannon sends them: the sign-in form of identity `next()` at each request,
 * answered `303` with the session cookie.
 */
export function passwordLogins(baseUrl: string, next: () => number): Pick<Hammer, "url" | "method" | "headers" | "setupRequest" | "expect"> {
  return {
    url: `${baseUrl}/t/national/login`,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: baseUrl },
    setupRequest: (req) => ({ ...req, body: new URLSearchParams({ identifier: identifierOf(next()), password: PASSWORD, level: "1" }).toString() }),
    expect: [303],
  };
}

/**
 * Identity n signs in on the tenant's sign-in page at `level` (2: then the authenticator code)
 * and lands on the account page: the browser then holds the session cookie.
 */
export async function login(browser: Browser, n: number, level: 1 | 2): Promise<void> {
  await browser.walk(
    `${browser.baseUrl}/t/national/login`,
    { identifier: identifierOf(n), password: PASSWORD, level: String(level) },
    (page) => {
      if (page.status === 200 && new URL(page.url).pathname === "/t/national/account") return { done: undefined };
      return personOnPage(n, page) ?? unexpected(page);
    },
  );
}

/**
 * One whole OpenID Connect sign-in as a new browser and the relying party see it: the
 * authorization request, the sign-in page, the password (the consent, the first time), back with
 * a code, redeemed for tokens with PKCE.
 */
export async function codeFlow(baseUrl: string, client: Client, n: number, browser = new Browser(baseUrl)): Promise<{ id_token: string; access_token: string }> {
  const issuer = `${baseUrl}/t/national`;
  const verifier = randomBytes(32).toString("base64url");
  const request = new URL(`${issuer}/oidc/auth`);
  request.search = new URLSearchParams({
    client_id: client.id,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
    scope: "openid profile",
    acr_values: "https://www.spid.gov.it/SpidL1",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: randomBytes(8).toString("hex"),
    nonce: randomBytes(8).toString("hex"),
  }).toString();
  const code = await browser.walk(
    request.href,
    undefined,
    (page) => {
      if (page.url.startsWith(REDIRECT_URI)) {
        const code = new URL(page.url).searchParams.get("code");
        if (!code) throw new Error(`no code: ${page.url}`);
        return { done: code };
      }
      return personOnPage(n, page) ?? unexpected(page);
    },
    REDIRECT_URI,
  );
  const res = await fetch(`${issuer}/oidc/token`, {
    method: "POST",
    headers: { authorization: basic(client), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
  });
  const tokens = (await res.json()) as { id_token?: string; access_token?: string };
  if (!tokens.id_token || !tokens.access_token) throw new Error(`token endpoint: ${JSON.stringify(tokens)}`);
  return { id_token: tokens.id_token, access_token: tokens.access_token };
}

export const basic = (client: Client) => `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString("base64")}`;

// ---------------------------------------------------------------------------------------------
// A SAML service provider

export interface ServiceProvider {
  privateKeyPem: string;
  /** The tenant's SSO endpoint. */
  sso: string;
}

/** A signed HTTP-Redirect AuthnRequest URL (SPID: L1 minimum, attribute set 0, transient NameID), with a fresh ID. */
export function authnRequestUrl(sp: ServiceProvider, now = Date.now()): Promise<string> {
  const id = `_${randomBytes(16).toString("hex")}`;
  const xml = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z")}" Destination="${sp.sso}" AssertionConsumerServiceIndex="0" AttributeConsumingServiceIndex="0"><saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" NameQualifier="${SP_ENTITY}">${SP_ENTITY}</saml:Issuer><samlp:NameIDPolicy Format="${TRANSIENT}"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL1</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>`;
  const query = `SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString("base64"))}&RelayState=bench&SigAlg=${encodeURIComponent(RSA_SHA256)}`;
  const key = createPrivateKey(sp.privateKeyPem);
  return new Promise((resolve, reject) =>
    sign("sha256", Buffer.from(query), key, (error, signature) => (error ? reject(error) : resolve(`${sp.sso}?${query}&Signature=${encodeURIComponent(signature.toString("base64"))}`))),
  );
}

/**
 * A SAML sign-in in `browser`: the service provider's AuthnRequest, Tessera's sign-in page if
 * there is no session yet (and the consent to the attribute release, the first time), and the
 * auto-posting form with the signed Response, whose SAMLResponse is returned.
 */
export async function samlSignIn(browser: Browser, sp: ServiceProvider, n: number): Promise<string> {
  return browser.walk(await authnRequestUrl(sp), undefined, (page) => {
    const response = /name="SAMLResponse" value="([^"]+)"/.exec(page.html)?.[1];
    if (page.status === 200 && response) return { done: response };
    return personOnPage(n, page) ?? unexpected(page);
  });
}
