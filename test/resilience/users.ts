/**
 * People using Tessera through the proxy while parts of it fail: each journey (an enrolment
 * through the JSON API, a level-2 sign-in, an OpenID Connect code flow, a SAML SSO) is retried as
 * a person would retry it, until it succeeds or its deadline passes. A page that fails to load is
 * loaded again; a form whose answer never came is not sent again blindly: the person starts the
 * sign-in again, or, in an enrolment, reads where the request stands and goes on from there. What
 * each attempt met is kept, for the figures in docs/operations.md.
 */
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent } from "undici";
import { computeCodiceFiscale } from "../../src/identity/codice-fiscale.ts";
import { Browser, type Client, codeFlow, login, samlSignIn, type ServiceProvider } from "../../bench/browser.ts";
import { solveCaptcha } from "../helpers/captcha.ts";
import { personalData } from "../helpers/enrolment.ts";
import type { TestSmtpServer } from "../helpers/mail.ts";
import type { TestSmsGateway } from "../helpers/sms-gateway.ts";
import { sleep } from "./cluster.ts";

export type Kind = "enrolment" | "login" | "oidc" | "saml" | "certificate" | "signature";
/** Started in turn at the steady rate; signatures go on their own (a signer gets a code a minute). */
const STEADY: Kind[] = ["enrolment", "login", "oidc", "saml", "certificate"];
export const KINDS: Kind[] = [...STEADY, "signature"];

export interface Setback {
  at: number;
  what: string;
}

export interface Journey {
  kind: Kind;
  /** The person's own address (127.1.x.y): per-address limits count each person, as on the Internet. */
  address: string;
  /** The person: an enrolment's e-mail address, or the identity number that signs in. */
  who: string;
  done: boolean;
  attempts: number;
  /** What went wrong on the way: when (ms since the epoch) and what (status and path, or the error). */
  setbacks: Setback[];
  /** What the journey ended with, for the checks afterwards. */
  cookie?: string;
  accessToken?: string;
  /** A certificate journey's certificate, by serial. */
  serial?: string;
  /** A signature journey's signatures, each checked by openssl. */
  signatures?: number;
}

/** Answers that say "not now, nothing done": a person reloads. */
const TRANSIENT = new Set([502, 503, 504]);

/** A browser that loads a page again when it could not be loaded (never a form it sent). */
class PersonsBrowser extends Browser {
  constructor(
    baseUrl: string,
    private readonly journey: Journey,
    via: Agent,
  ) {
    super(baseUrl, via);
  }

  override async fetch(url: string, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await super.fetch(url, init);
        if (init.form || !TRANSIENT.has(res.status) || attempt >= 40) return res;
        this.journey.setbacks.push({ at: Date.now(), what: `${res.status} GET ${new URL(url).pathname}` });
        await res.arrayBuffer();
      } catch (err) {
        this.journey.setbacks.push({ at: Date.now(), what: `${describe(err)} ${init.form ? "POST" : "GET"} ${new URL(url).pathname}` });
        if (init.form || attempt >= 40) throw err;
      }
      await sleep(Math.min(2000, 100 * attempt));
    }
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  return cause ?? (err instanceof Error ? err.message.split("\n")[0]!.slice(0, 120) : String(err));
}

export interface TrafficSetup {
  proxyUrl: string;
  smtp: TestSmtpServer;
  sms: TestSmsGateway;
  client: Client;
  sp: ServiceProvider;
  /** Identities that sign in (bench/identities.ts numbering, each with an authenticator app). */
  identities: { from: number; count: number };
  /** The admin API's token: certificates are issued through it, as an organisation's desk software would. */
  adminToken: string;
  /** The demo signer's access to the CSC API, and the certificate her signatures are checked against. */
  signer: { csc: string; accessToken: string; credentialID: string; certificateDer: Buffer; mobile: string; password: string };
  /** How long a person keeps trying before giving up: the journey is then lost. */
  patienceMs: number;
  runId: string;
}

/**
 * Starts one journey every `everyMs`, the kinds in turn, until stopped; `stop` waits for those
 * under way to end (done, or given up).
 */
export class Traffic {
  readonly journeys: Journey[] = [];
  private readonly underway = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private nextIdentity = 0;

  constructor(private readonly setup: TrafficSetup) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => this.one(), everyMs);
    // A signing session every 15 s or so, as long as the traffic runs: the signer's codes are
    // limited per hour (the tenant's signing.codesPerHour), and back-to-back sessions would use
    // them up within the run.
    const signing = async () => {
      while (this.timer) {
        const started = Date.now();
        await this.run(this.begin("signature"));
        while (this.timer && Date.now() - started < 15_000) await sleep(250);
      }
    };
    const p = signing().finally(() => this.underway.delete(p));
    this.underway.add(p);
  }

  /** `n` journeys at once, besides the steady ones: so that a node has some in hand when it is killed. */
  burst(n: number): void {
    for (let i = 0; i < n; i++) this.one();
  }

  private one(): void {
    const kind = STEADY[this.started++ % STEADY.length]!;
    const journey = this.begin(kind);
    const p = this.run(journey).finally(() => this.underway.delete(p));
    this.underway.add(p);
  }

  async stop(): Promise<Journey[]> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.underway]);
    return this.journeys;
  }

  private begin(kind: Kind): Journey {
    const who =
      kind === "enrolment"
        ? `person${this.started}.${this.setup.runId}@resilience.example`
        : kind === "certificate"
          ? `RESILIENCE ${this.setup.runId} ${this.started}`
          : kind === "signature"
            ? `signature ${this.journeys.length}`
          : String(this.setup.identities.from + (this.nextIdentity++ % this.setup.identities.count));
    const n = this.journeys.length;
    const journey: Journey = { kind, who, address: `127.1.${Math.floor(n / 250)}.${1 + (n % 250)}`, done: false, attempts: 0, setbacks: [] };
    this.journeys.push(journey);
    return journey;
  }

  private async run(journey: Journey): Promise<void> {
    const deadline = Date.now() + this.setup.patienceMs;
    const via = new Agent({ localAddress: journey.address });
    const enrolment = journey.kind === "enrolment" ? new Enrolment(this.setup, journey, this.started, via) : undefined;
    try {
      while (Date.now() < deadline) {
        journey.attempts++;
        try {
          await this.attempt(journey, enrolment, deadline, via);
          journey.done = true;
          return;
        } catch (err) {
          journey.setbacks.push({ at: Date.now(), what: describe(err) });
          // A second factor's code is good once per 30-second period: a person trying again waits for the next.
          await sleep(journey.kind === "login" ? 30_000 - (Date.now() % 30_000) + 200 : 1000);
        }
      }
    } finally {
      await via.close();
    }
  }

  private async attempt(journey: Journey, enrolment: Enrolment | undefined, deadline: number, via: Agent): Promise<void> {
    const { proxyUrl, client, sp } = this.setup;
    const n = Number(journey.who);
    const browser = new PersonsBrowser(proxyUrl, journey, via);
    switch (journey.kind) {
      case "enrolment":
        return enrolment!.goOn(deadline);
      case "login":
        await login(browser, n, 2);
        journey.cookie = browser.cookie;
        return;
      case "oidc":
        journey.accessToken = (await codeFlow(proxyUrl, client, n, browser)).access_token;
        return;
      case "certificate":
        return certificateJourney(this.setup, journey, browser, via);
      case "signature":
        return signatureJourney(this.setup, journey, via);
      case "saml": {
        const response = Buffer.from(await samlSignIn(browser, sp, n), "base64").toString("utf8");
        if (!response.includes('StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"') || !response.includes("<saml:Assertion")) {
          throw new Error(`SAML response without a successful assertion: ${response.slice(0, 200)}`);
        }
        return;
      }
    }
  }
}

/**
 * A certificate issued through the admin API for a new key (the CSR openssl makes), then its
 * status asked of the OCSP responder, both through the proxy; openssl checks the response (signed
 * by the tenant's responder, chaining to its root) and that it says "good". Issuance is not sent
 * again after a lost answer: the next attempt is a new key and a new request, as the desk's
 * software would make it.
 */
async function certificateJourney(setup: TrafficSetup, journey: Journey, browser: Browser, via: Agent): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-cert-"));
  openssl(dir, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-subj", "/CN=resilience", "-out", "req.pem"]);
  const issue = await fetch(`${setup.proxyUrl}/admin/api/tenants/pro/pki/certificates`, {
    method: "POST",
    headers: { authorization: `Bearer ${setup.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      profile: "qualified-signing",
      csr: readFileSync(path.join(dir, "req.pem"), "utf8"),
      subject: { country: "ES", common_name: journey.who, given_name: "Resilience", surname: "Profesional", serial_number: "IDCES-12345678Z", organization_name: "Resilience S.L.", organization_identifier: "VATES-B12345674" },
    }),
    signal: AbortSignal.timeout(20_000),
    dispatcher: via,
  });
  if (issue.status !== 201) throw new Error(`issuance: ${issue.status} ${(await issue.text()).slice(0, 160)}`);
  const issued = (await issue.json()) as { serial: string; certificate: string };
  journey.serial = issued.serial;
  writeFileSync(path.join(dir, "leaf.pem"), issued.certificate);
  const chain = await browser.fetch(`${setup.proxyUrl}/t/pro/pki/chain.pem`);
  if (chain.status !== 200) throw new Error(`chain: ${chain.status}`);
  writeFileSync(path.join(dir, "chain.pem"), await chain.text());
  openssl(dir, ["x509", "-in", "chain.pem", "-out", "issuing.pem"]);
  openssl(dir, ["ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der"]);
  // A status request changes nothing: sent again whenever it is not answered.
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${setup.proxyUrl}/t/pro/pki/ocsp`, {
      method: "POST",
      headers: { "content-type": "application/ocsp-request" },
      body: readFileSync(path.join(dir, "req.der")),
      signal: AbortSignal.timeout(20_000),
      dispatcher: via,
    }).catch((err: unknown) => err as Error);
    if (!(res instanceof Error) && res.status === 200) {
      writeFileSync(path.join(dir, "resp.der"), Buffer.from(await res.arrayBuffer()));
      break;
    }
    journey.setbacks.push({ at: Date.now(), what: `${res instanceof Error ? describe(res) : res.status} POST /t/pro/pki/ocsp` });
    if (!(res instanceof Error)) await res.arrayBuffer();
    if (attempt >= 40) throw new Error("OCSP responder not answering");
    await sleep(Math.min(2000, 100 * attempt));
  }
  const verdict = openssl(dir, ["ocsp", "-reqin", "req.der", "-respin", "resp.der", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-CAfile", "chain.pem"]);
  if (!/leaf\.pem: good/.test(verdict)) throw new Error(`OCSP: ${verdict.trim()}`);
}

/**
 * A signing session through the CSC API v2 as a signing application runs it for the demo signer:
 * a one-time code sent to her mobile (at most one a minute: asked again until due), three hashes
 * authorised with her signing password and the code (one SAD), the three signed in one signHash;
 * openssl checks each signature with her certificate's key. A lost answer is not sent again: the
 * SAD may be spent; the next attempt is a new session.
 */
async function signatureJourney(setup: TrafficSetup, journey: Journey, via: Agent): Promise<void> {
  const { signer } = setup;
  const call = async (method: string, body: object) => {
    const res = await fetch(`${signer.csc}/${method}`, {
      method: "POST",
      headers: { authorization: `Bearer ${signer.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
      dispatcher: via,
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  const texted = () => setup.sms.textsTo(signer.mobile);
  const before = texted().length;
  for (let attempt = 1; ; attempt++) {
    const sent = await call("credentials/sendOTP", { credentialID: signer.credentialID });
    if (sent.status === 204) break;
    // Too soon after the last code, or not now: asked again, for a while.
    if ((sent.status !== 429 && !TRANSIENT.has(sent.status)) || attempt > 45) throw new Error(`sendOTP: ${sent.status} ${JSON.stringify(sent.json)}`);
    await sleep(2000);
  }
  let otp: string | undefined;
  for (let end = Date.now() + setup.patienceMs; !otp && Date.now() < end; await sleep(250)) {
    const codes = texted().slice(before);
    otp = codes.length > 0 ? /\b(\d{6})\b/.exec(codes.at(-1)!)?.[1] : undefined;
  }
  if (!otp) throw new Error("no signing code arrived");
  const hashes = Array.from({ length: 3 }, () => randomBytes(32).toString("base64"));
  const authorized = await call("credentials/authorize", { credentialID: signer.credentialID, numSignatures: hashes.length, hashes, authData: [{ id: "PIN", value: signer.password }, { id: "OTP", value: otp }] });
  if (authorized.status !== 200) throw new Error(`authorize: ${authorized.status} ${JSON.stringify(authorized.json)}`);
  const signed = await call("signatures/signHash", { credentialID: signer.credentialID, SAD: authorized.json.SAD, hashes, signAlgo: "1.2.840.10045.4.3.2" });
  if (signed.status !== 200) throw new Error(`signHash: ${signed.status} ${JSON.stringify(signed.json)}`);
  const signatures = signed.json.signatures as string[];
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-sig-"));
  writeFileSync(path.join(dir, "cert.der"), signer.certificateDer);
  openssl(dir, ["x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out", "pub.pem"]);
  hashes.forEach((hash, i) => {
    writeFileSync(path.join(dir, `${i}.bin`), Buffer.from(hash, "base64"));
    writeFileSync(path.join(dir, `${i}.sig`), Buffer.from(signatures[i] ?? "", "base64"));
    const verdict = openssl(dir, ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", `${i}.bin`, "-sigfile", `${i}.sig`]);
    if (!verdict.includes("Signature Verified Successfully")) throw new Error(`signature ${i}: ${verdict.trim()}`);
  });
  journey.signatures = signatures.length;
}

/** What the certificate journey runs openssl in: a directory of its own. */
function openssl(dir: string, args: string[]): string {
  return execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
}

interface FlowView {
  id: string;
  state: string;
  step: string | null;
  fields: { name: string; challenge?: { algorithm: string; challenge: string; salt: string; signature: string; maxnumber: number } }[];
}

/**
 * An identity request through the JSON API (seed 000's steps). The request lives on the server:
 * after a failure the person reads where it stands and goes on from that step.
 */
class Enrolment {
  private flowId: string | undefined;
  private readonly mobile: string;
  private readonly birthDate: string;

  constructor(
    private readonly setup: TrafficSetup,
    private readonly journey: Journey,
    n: number,
    private readonly via: Agent,
  ) {
    this.mobile = `+39 34${String(n).padStart(8, "0")}`;
    // A birth date of their own, so that each person's codice fiscale differs.
    this.birthDate = `19${50 + (n % 50)}-${String(1 + (Math.floor(n / 50) % 12)).padStart(2, "0")}-${String(1 + (Math.floor(n / 600) % 28)).padStart(2, "0")}`;
  }

  private get email() {
    return this.journey.who;
  }

  private async call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: FlowView & { error?: string } }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${this.setup.proxyUrl}/t/national/api/flows${path}`, {
          method,
          headers: { accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(20_000),
          dispatcher: this.via,
        });
        const json = (await res.json().catch(() => ({}))) as FlowView & { error?: string };
        if (!TRANSIENT.has(res.status)) return { status: res.status, json };
        this.journey.setbacks.push({ at: Date.now(), what: `${res.status} ${method} /api/flows${path ? "/…" : ""}` });
        // 503 is a refusal before anything was done: sent again. 502 and 504 mean the node may
        // have taken the step and not answered: read the request again instead.
        if (method === "POST" && res.status !== 503) return { status: 0, json: {} as FlowView };
      } catch (err) {
        this.journey.setbacks.push({ at: Date.now(), what: `${describe(err)} ${method} /api/flows${path ? "/…" : ""}` });
        // The answer was lost: the step may or may not have been taken. Read the request again.
        if (method === "POST") return { status: 0, json: {} as FlowView };
      }
      await sleep(Math.min(2000, 100 * attempt));
    }
  }

  async goOn(deadline: number): Promise<void> {
    let view: FlowView | undefined;
    if (!this.flowId) {
      const created = await this.call("POST", "", { kind: "enrolment" });
      if (created.status !== 201) throw new Error(`enrolment not started: ${created.status} ${JSON.stringify(created.json)}`);
      this.flowId = created.json.id;
      view = created.json;
    }
    const path = `/${this.flowId}`;
    while (Date.now() < deadline) {
      if (!view) {
        const read = await this.call("GET", path);
        if (read.status !== 200) throw new Error(`enrolment ${read.status}: ${JSON.stringify(read.json)}`);
        view = read.json;
      }
      if (view.state === "awaiting_proofing") return;
      if (view.state !== "active" || !view.step) throw new Error(`enrolment ended as ${view.state}`);
      const values = await this.answer(view, deadline);
      const submitted = await this.call("POST", path, { step: view.step, ...values });
      // 200: the next step. Lost answer (0), or the step already taken by the lost attempt (409): read it again.
      if (submitted.status === 200) view = submitted.json;
      else if (submitted.status === 0 || submitted.status === 409) view = undefined;
      else throw new Error(`enrolment step ${view.step}: ${submitted.status} ${JSON.stringify((submitted.json as { errors?: unknown }).errors ?? submitted.json)}`);
    }
    throw new Error("enrolment not finished in time");
  }

  private async answer(view: FlowView, deadline: number): Promise<Record<string, unknown>> {
    switch (view.step) {
      case "method":
        return { method: "in_person", point: "milano-duomo" };
      case "credentials":
        return {
          email: this.email,
          password: "Correct-Horse-42!",
          privacy_consent: true,
          marketing_consent: false,
          captcha: await solveCaptcha(view.fields.find((f) => f.name === "captcha")!.challenge!),
        };
      case "email_confirmation":
        return { code: await this.code(() => this.mailedCodes(), deadline) };
      case "security":
        return { question: "first_pet", answer: "Fido", mobile: this.mobile };
      case "mobile_confirmation":
        return { code: await this.code(() => this.textedCodes(), deadline) };
      case "personal_data": {
        const person = { givenName: personalData.given_name, familyName: personalData.family_name, birthDate: this.birthDate, sex: "F" as const, birthPlace: "F205" };
        return { ...personalData, birth_date: this.birthDate, fiscal_code: computeCodiceFiscale(person) };
      }
      case "summary":
        return { contract_accepted: true };
      default:
        throw new Error(`enrolment step ${view.step} not known to the test`);
    }
  }

  private mailedCodes(): string[] {
    return this.setup.smtp.messages
      .filter((m) => [m.to ?? []].flat().some((to) => to.value.some((v) => v.address?.toLowerCase() === this.email)))
      .map((m) => /\b(\d{6})\b/.exec(m.text ?? "")?.[1])
      .filter((c): c is string => c !== undefined);
  }

  private textedCodes(): string[] {
    const to = this.mobile.replace(/\s/g, "");
    return this.setup.sms
      .textsTo(to)
      .map((text) => /\b(\d{6})\b/.exec(text)?.[1])
      .filter((c): c is string => c !== undefined);
  }

  /** The newest code sent, waiting for it as long as the outbox needs (an outage of the SMTP server or SMS gateway). */
  private async code(codes: () => string[], deadline: number): Promise<string> {
    while (Date.now() < deadline) {
      const all = codes();
      if (all.length > 0) return all.at(-1)!;
      await sleep(250);
    }
    throw new Error("no code arrived");
  }
}
