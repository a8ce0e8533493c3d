import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../src/identity/accounts.ts";
import { hashingPool } from "../../src/identity/password/hashing-pool.ts";
import { setPassword } from "../../src/identity/password/service.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { member, PASSWORD } from "../helpers/flows.ts";
import { httpBrowser, type Page } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI } from "../helpers/oidc.ts";
import { newKeyPair, nodeSamlSp, registerSp, spMetadata } from "../helpers/saml.ts";

/**
 * Issue 21: whoever types an identifier must not learn from the answer, nor from the work behind
 * it, whether the identifier is someone's. For every path that takes one (sign-in through the
 * flow API, the sign-in page, the sign-in pages of an OpenID Connect authorization and of a SAML
 * request, password recovery by question and by e-mail link, "Ho già un account", coming back to
 * a request), a known identifier with a wrong secret and an unknown identifier must get the same
 * status and the same body, after the same SQL statements in the same order and the same number
 * of argon2id verifications, and no hash made on the way. Work, not time, is compared here: it
 * is what time follows, and it does not flake (bench/enumeration.ts measures the time).
 */

let recording: string[] | undefined;
let t: OidcTestApp;

const WRONG = "Sbagliata-Davvero-2026!";
const DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE";
const dni = (n: number) => `${String(n).padStart(8, "0")}${DNI_LETTERS[n % 23]}`;

type Who = "national" | "university" | "pro" | "customer";
let serial = 0;

/**
 * A known identifier (a fresh account with a password, of its own so that no path's failures
 * lock another's) and an unknown one of the same kind, for each run.
 */
async function pair(who: Who): Promise<{ identifier: string; unknown: string }> {
  const n = ++serial;
  if (who === "customer") {
    const national = (await findTenant(t.store.repos, "national"))!;
    const identifier = `negozio${n}@example.it`;
    const shop = await createAccount(t.deps, national, { identifier, kind: "customer", state: "active", email: identifier }, { actor: "test" });
    await setPassword(t.deps, national, shop, PASSWORD, { actor: "test" });
    return { identifier, unknown: `mai.cliente${n}@example.it` };
  }
  const ids = {
    national: [`persona${n}@example.it`, `nessuno${n}@example.it`],
    university: [String(10_000_000 + n), String(10_900_000 + n)],
    pro: [dni(12_000_000 + n), dni(13_000_000 + n)],
  }[who];
  const [identifier, unknown] = ids as [string, string];
  await member(
    t,
    who,
    { identifier, email: who === "national" ? identifier : `persona${n}@example.it`, emailVerified: true, phone: `+39333111${String(n).padStart(4, "0")}`, phoneVerified: true },
    who === "national" ? { answer: { question: "first_pet", answer: "Fuffi" } } : {},
  );
  return { identifier, unknown };
}

beforeAll(async () => {
  t = await oidcTestApp(undefined, { onQuery: (sql) => recording?.push(sql) });
});
afterAll(async () => t?.close());

interface Observed {
  status: number;
  body: string;
  statements: string[];
  verifications: number;
  hashes: number;
}

/** Runs `request` and what it made the server do: its SQL statements and argon2id calls. */
async function observe(request: () => Promise<{ status: number; body: string }>, typed: string, differs?: RegExp): Promise<Observed> {
  const before = hashingPool.stats();
  recording = [];
  try {
    const { status, body } = await request();
    return {
      status,
      // What differs by nature: the identifier typed (shown back in the form), times, ids and
      // tokens (random url-safe base64), and what the path says differs on purpose.
      body: body
        .replaceAll(typed, "<typed>")
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
        .replace(/(?=[A-Za-z0-9_-]*[A-Z0-9-])[A-Za-z0-9_-]{16,}/g, "<id>")
        .replace(differs ?? /$^/, "<differs>"),
      statements: recording,
      verifications: hashingPool.stats().verifications - before.verifications,
      hashes: hashingPool.stats().hashes - before.hashes,
    };
  } finally {
    recording = undefined;
  }
}

async function json(path: string, body: unknown): Promise<{ status: number; body: string; json: Record<string, unknown> }> {
  const res = await fetch(`${t.baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", "accept-language": "en" }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text, json: JSON.parse(text) as Record<string, unknown> };
}

const page = (p: Page) => ({ status: p.status, body: p.html });

/**
 * A path: `prepare` gets it to the point where the identifier (or the secret that goes with it)
 * is typed, outside the observation; `submit` is the request observed.
 */
interface Path {
  name: string;
  who: Who;
  argon2: number;
  /** What the answers differ in on purpose (a decoy security question is another question). */
  differs?: RegExp;
  prepare(identifier: string): Promise<unknown>;
  submit(state: unknown, identifier: string): Promise<{ status: number; body: string }>;
}

const apiLogin = (tenant: "national" | "university" | "pro"): Path => ({
  name: `sign-in through the flow API (${tenant})`,
  who: tenant,
  argon2: 1,
  prepare: async () => (await json(`/t/${tenant}/api/flows`, { kind: "login" })).json.id,
  submit: (id, identifier) => json(`/t/${tenant}/api/flows/${id as string}`, { step: "identify", identifier, password: WRONG }),
});

/** The sign-in form a browser was sent to, filled in and posted. */
const signInPage = (name: string, start: () => Promise<{ browser: ReturnType<typeof httpBrowser>; page: Page }>): Path => ({
  name,
  who: "national",
  argon2: 1,
  prepare: start,
  async submit(state, identifier) {
    const { browser, page: form } = state as Awaited<ReturnType<typeof start>>;
    expect(new URL(form.url).pathname).toBe("/t/national/login");
    return page(await browser.submit(form, /\/login$/, { identifier, password: WRONG }));
  },
});

/**
 * Password recovery by `method`: the identifier, then a wrong second value (`wrong`: an answer,
 * or a code from the link) on the step the identifier led to (`next`).
 */
function recovery(tenant: "national" | "university", method: string, next: string, wrong: Record<string, string>, second: { argon2: number; differs?: RegExp }): Path[] {
  const flows = `/t/${tenant}/api/flows`;
  return [
    {
      name: `password recovery by ${method}: the identifier`,
      who: tenant,
      argon2: 0,
      ...(second.differs ? { differs: second.differs } : {}),
      prepare: async () => (await json(flows, { kind: "recovery" })).json.id,
      submit: (id, identifier) => json(`${flows}/${id as string}`, { step: "identify", identifier }),
    },
    {
      name: `password recovery by ${method}: a wrong ${next === "question" ? "answer" : "code from the link"}`,
      who: tenant,
      argon2: second.argon2,
      async prepare(identifier) {
        const id = (await json(flows, { kind: "recovery" })).json.id as string;
        expect((await json(`${flows}/${id}`, { step: "identify", identifier })).json.step).toBe(next);
        return id;
      },
      submit: (id) => json(`${flows}/${id as string}`, wrong),
    },
  ];
}

const paths: Path[] = [
  apiLogin("national"),
  apiLogin("university"),
  apiLogin("pro"),
  signInPage("the sign-in page", async () => {
    const browser = httpBrowser(t.baseUrl);
    return { browser, page: await browser.go(`${t.baseUrl}/t/national/login`) };
  }),
  signInPage("the sign-in page of an OpenID Connect authorization", async () => {
    const { clientId, secret } = await t.registerClient("national", { name: "Comune Digitale", redirectUris: [REDIRECT_URI] });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    return { browser, page: await browser.go((await authorizationRequest(rp)).url.href) };
  }),
  signInPage("the sign-in page of a SAML authentication request", async () => {
    const keys = await newKeyPair();
    await registerSp(t, "national", spMetadata({ certificateBase64: keys.certificateBase64 }));
    const sp = await nodeSamlSp(t.baseUrl, "national", keys);
    const browser = httpBrowser(t.baseUrl);
    return { browser, page: await browser.go(await sp.getAuthorizeUrlAsync("relay", undefined, {})) };
  }),
  // A decoy security question is another question than the real one: its text differs on purpose.
  ...recovery("national", "security question", "question", { step: "question", answer: "Rex" }, { argon2: 1, differs: /"label":"[^"]*"/ }),
  // Seven digits: never the six-digit code that was sent.
  ...recovery("university", "e-mail link", "email_link", { step: "email_link", code: "0000000" }, { argon2: 0 }),
  {
    name: '"Ho già un account": a shop account linked at enrolment',
    who: "customer",
    argon2: 1,
    async prepare() {
      const id = (await json("/t/national/api/flows", { kind: "enrolment" })).json.id as string;
      expect((await json(`/t/national/api/flows/${id}`, { step: "method", method: "signature" })).json.step).toBe("credentials");
      return id;
    },
    submit: (id, identifier) =>
      json(`/t/national/api/flows/${id as string}`, { step: "credentials", customer_email: identifier, customer_password: WRONG, privacy_consent: true }),
  },
  {
    name: "coming back to an identity request",
    who: "national",
    argon2: 1,
    prepare: async () => undefined,
    submit: (_, identifier) => json("/t/national/api/flows", { kind: "enrolment", email: identifier, password: WRONG }),
  },
];

describe("an unknown identifier costs and looks like a known one with a wrong secret (issue 21)", () => {
  for (const path of paths) {
    it(path.name, async () => {
      const { identifier, unknown } = await pair(path.who);
      const knownState = await path.prepare(identifier);
      const known = await observe(() => path.submit(knownState, identifier), identifier, path.differs);
      const nobodyState = await path.prepare(unknown);
      const nobody = await observe(() => path.submit(nobodyState, unknown), unknown, path.differs);
      expect(known.status).toBeGreaterThanOrEqual(200);
      expect(nobody.status).toBe(known.status);
      expect(nobody.body).toBe(known.body);
      expect(nobody.statements).toEqual(known.statements);
      expect(known.verifications).toBe(path.argon2);
      expect(nobody.verifications).toBe(path.argon2);
      // The decoy hash was made before: nobody's sign-in pays for making one.
      expect([known.hashes, nobody.hashes]).toEqual([0, 0]);
    });
  }

  it("a malformed identifier: the same work, and a try that counts", async () => {
    const submit = async (identifier: string) => {
      const id = (await json("/t/pro/api/flows", { kind: "login" })).json.id as string;
      return json(`/t/pro/api/flows/${id}`, { step: "identify", identifier, password: WRONG });
    };
    const { unknown: nobody } = await pair("pro");
    const unknown = await observe(() => submit(nobody), nobody);
    // 12345678A: a DNI whose check letter is wrong can be nobody's.
    const malformed = await observe(() => submit("12345678A"), "12345678A");
    expect(JSON.parse(malformed.body)).toMatchObject({ errors: [{ field: "identifier", code: "invalid_identifier" }] });
    expect(malformed.status).toBe(unknown.status);
    expect(malformed.statements).toEqual(unknown.statements);
    expect([malformed.verifications, malformed.hashes]).toEqual([1, 0]);
  });

  it("a real user's right password is verified once, not twice", async () => {
    const { identifier } = await pair("university");
    const id = (await json("/t/university/api/flows", { kind: "login" })).json.id as string;
    const signedIn = await observe(() => json(`/t/university/api/flows/${id}`, { step: "identify", identifier, password: PASSWORD }), "");
    expect(signedIn.status).toBe(200);
    expect([signedIn.verifications, signedIn.hashes]).toEqual([1, 0]);
  });
});
