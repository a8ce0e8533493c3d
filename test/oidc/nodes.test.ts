import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import { member, PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";
import { freshPgSchemaUrl, pgUrl } from "../helpers/stores.ts";

const nodes: OidcTestApp[] = [];
let balancer: Server | undefined;
afterEach(async () => {
  if (balancer) await new Promise((resolve) => balancer!.close(resolve));
  balancer = undefined;
  for (const n of nodes.splice(0)) await n.close();
});

/** A load balancer that sends each request to the next node in turn, and counts them. */
async function roundRobin(ports: () => number[]): Promise<{ url: string; served: number[] }> {
  const served = [0, 0];
  let next = 0;
  balancer = createServer((req, res) => {
    const i = next++ % 2;
    served[i]!++;
    const upstream = httpRequest({ host: "127.0.0.1", port: ports()[i], path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => balancer!.listen(0, "127.0.0.1", resolve));
  const address = balancer.address();
  return { url: `http://localhost:${typeof address === "object" && address ? address.port : 0}`, served };
}

describe.skipIf(!pgUrl)("OpenID Connect on two nodes of one PostgreSQL database", () => {
  it("finishes on one node a sign-in another node started, request after request alternating", async () => {
    const databaseUrl = await freshPgSchemaUrl();
    const secrets = createSecrets(randomBytes(32));
    const lb = await roundRobin(() => nodes.map((n) => n.port));
    nodes.push(await oidcTestApp({ databaseUrl, secrets, publicUrl: lb.url }));
    nodes.push(await oidcTestApp({ databaseUrl, secrets, publicUrl: lb.url }));
    const [a] = nodes as [OidcTestApp, OidcTestApp];

    const { account } = await member(a, "national", { identifier: "nodo@example.it", email: "nodo@example.it", emailVerified: true, givenName: "Nodo" });
    const { clientId, secret } = await a.registerClient("national", { name: "Cluster", redirectUris: [REDIRECT_URI], grants: ["authorization_code", "refresh_token"] });
    const rp = await a.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const request = await authorizationRequest(rp, { scope: "openid profile" });
    const back = await signInThrough(a, httpBrowser(lb.url), request.url.href, { tenant: "national", identifier: "nodo@example.it", password: PASSWORD });
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.claims()!.sub).toBe(account.id);
    expect(await client.fetchUserInfo(rp, tokens.access_token, account.id)).toMatchObject({ given_name: "Nodo" });
    expect((await client.refreshTokenGrant(rp, tokens.refresh_token!)).access_token).toBeTruthy();

    expect(lb.served[0]).toBeGreaterThan(3);
    expect(lb.served[1]).toBeGreaterThan(3);
    // Both nodes publish the one key set made by whichever started first.
    const jwks = await Promise.all(nodes.map(async (n) => (await fetch(`http://127.0.0.1:${n.port}/t/national/oidc/jwks`)).json()));
    expect(jwks[0]).toEqual(jwks[1]);
    expect((jwks[0] as { keys: unknown[] }).keys).toHaveLength(2);
  });
});
