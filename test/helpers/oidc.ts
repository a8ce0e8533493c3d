import { randomBytes } from "node:crypto";
import * as client from "openid-client";
import { expect } from "vitest";
import { type ClientInput, createClient } from "../../src/federation/oidc/clients.ts";
import { standaloneProviders } from "../../src/federation/oidc/providers.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { createPkiRuntime, type PkiDeps } from "../../src/pki/deps.ts";
import { createSecrets, type Secrets } from "../../src/shared/crypto/secrets.ts";
import { databaseAttemptStore } from "../../src/store/attempts.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { ensureDecoyHashes } from "../../src/identity/password/decoy.ts";
import { ensureTenants, findTenant, listTenants } from "../../src/tenants/service.ts";
import { buildApp } from "../../src/web/app.ts";
import { lastCodeTo } from "./enrolment.ts";
import type { HttpBrowser, Page } from "./http-browser.ts";
import { withCheapHashing } from "./identity.ts";
import { freshStore } from "./stores.ts";

export interface OidcTestApp {
  baseUrl: string;
  /** The port this node listens on (its public URL may be a balancer's). */
  port: number;
  store: Store;
  deps: PkiDeps;
  logs: string[];
  close(): Promise<void>;
  /** Registers a client with the tenant; its id and secret. */
  registerClient(tenant: string, input: ClientInput): Promise<{ clientId: string; secret: string | null }>;
  /** openid-client's view of the tenant's provider, as a relying party with this client. */
  relyingParty(tenant: string, clientId: string, auth: client.ClientAuth, metadata?: Partial<client.ClientMetadata>): Promise<client.Configuration>;
}

/**
 * The real app listening on a loopback port, on the system clock (oidc-provider reads the clock
 * itself: tests move time with vi.setSystemTime), with the demo tenants. With `node`, one more
 * node on the same database (behind `publicUrl`, when a load balancer stands in front of them).
 */
export async function oidcTestApp(
  node?: { databaseUrl: string; secrets: Secrets; publicUrl?: string },
  options: { onQuery?: (sql: string) => void } = {},
): Promise<OidcTestApp> {
  const store = node ? openStore(node.databaseUrl) : options.onQuery ? openStore("sqlite::memory:", { onQuery: options.onQuery }) : await freshStore("sqlite");
  await store.migrate();
  await ensureTenants(store, systemClock, demoTenants.map(withCheapHashing), { actor: "test" });
  await ensureDecoyHashes(store.repos, await listTenants(store.repos));
  const secrets = node?.secrets ?? createSecrets(randomBytes(32));
  const publicUrl = { current: node?.publicUrl ?? "http://localhost" };
  const pki = createPkiRuntime(secrets, systemClock);
  const logs: string[] = [];
  const app = await buildApp({
    store,
    clock: systemClock,
    secrets,
    pki,
    attempts: databaseAttemptStore(store.repos),
    devMode: false,
    oidcPrivateNetwork: true,
    publicUrl,
    logLevel: "warn",
    logStream: { write: (line: string) => logs.push(line) } as never,
    trustProxy: 0,
    rateLimit: { max: 10_000, windowSeconds: 60 },
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  if (!node?.publicUrl) publicUrl.current = `http://localhost:${port}`;
  const deps = { repos: store.repos, clock: systemClock, secrets, pki };
  const providers = standaloneProviders(deps, publicUrl.current, { error: () => undefined, warn: () => undefined });
  return {
    baseUrl: publicUrl.current,
    port,
    store,
    deps,
    logs,
    async close() {
      await app.close();
      await store.close();
    },
    async registerClient(tenantId, input) {
      const tenant = (await findTenant(store.repos, tenantId))!;
      const { client: created, secret } = await createClient(deps, tenant, input, (m) => providers.validateClient(tenant, m), { actor: "test" });
      return { clientId: created.client_id, secret };
    },
    relyingParty(tenantId, clientId, auth, metadata = {}) {
      return client.discovery(new URL(`${publicUrl.current}/t/${tenantId}`), clientId, metadata, auth, { execute: [client.allowInsecureRequests] });
    },
  };
}

export const REDIRECT_URI = "http://localhost:4100/callback";

/** An authorization request as a relying party makes it: PKCE, state and nonce. */
export async function authorizationRequest(config: client.Configuration, params: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

/**
 * Walks a browser through Tessera's pages from an authorization URL to the relying party: the
 * sign-in form, a second factor by SMS when the page asks for one, the consent (allowed, unless
 * `consent` says otherwise). Returns the URL the browser was sent back to.
 */
export async function signInThrough(
  t: Pick<OidcTestApp, "store" | "deps">,
  browser: HttpBrowser,
  start: string | Page,
  who: { tenant: string; identifier: string; password: string; phone?: string },
  options: { consent?: "allow" | "deny" } = {},
): Promise<URL> {
  let page = typeof start === "string" ? await browser.go(start) : start;
  for (let steps = 0; steps < 6; steps++) {
    if (page.status === 0) return new URL(page.url);
    expect(page.status, `${page.url}\n${page.html.slice(0, 1500)}`).toBeLessThan(400);
    const forms = browser.forms(page);
    const path = new URL(page.url).pathname;
    if (path === `/t/${who.tenant}/login`) {
      page = await browser.submit(page, /\/login$/, { identifier: who.identifier, password: who.password });
    } else if (path.startsWith(`/t/${who.tenant}/login/`)) {
      const send = forms.find((f) => f.fields.method === "sms" && f.fields.send === "on");
      if (!send || !who.phone) throw new Error(`a second factor is asked for, and the test has no phone:\n${page.html.slice(0, 1500)}`);
      page = await browser.go(send.action, { form: send.fields });
      const code = await lastCodeTo(t, who.phone, who.tenant);
      const enter = browser.forms(page).find((f) => f.fields.method === "sms" && f.fields.send === undefined)!;
      page = await browser.go(enter.action, { form: { ...enter.fields, code } });
    } else if (/\/authorize\/[^/]+$/.test(path)) {
      page = await browser.submit(page, /\/consent$/, { decision: options.consent ?? "allow" });
    } else {
      throw new Error(`unexpected page ${page.url}:\n${page.html.slice(0, 1500)}`);
    }
  }
  throw new Error(`no way back to the relying party from ${page.url}`);
}
