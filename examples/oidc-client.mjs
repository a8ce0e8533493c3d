// A web application that signs its users in with Tessera over OpenID Connect: the authorization
// code flow with PKCE, as a confidential client (client_secret_basic), using openid-client.
//
//   ISSUER=http://localhost:8080/t/national CLIENT_ID=… CLIENT_SECRET=… node examples/oidc-client.mjs
//
// Register the client first (README, "Connect an application"). Open http://localhost:3000/ and
// sign in; add ?level=2 to ask for SPID level 2. PORT changes the port (and the redirect URI).
//
// The example keeps its pending sign-ins in memory to stay short; a real application keeps them
// in its own session store.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import * as oidc from "openid-client";

const ISSUER = process.env.ISSUER ?? "http://localhost:8080/t/national";
const PORT = Number(process.env.PORT ?? 3000);
const APP = `http://localhost:${PORT}`;
const REDIRECT_URI = `${APP}/callback`;
const LEVELS = { 1: "https://www.spid.gov.it/SpidL1", 2: "https://www.spid.gov.it/SpidL2" };

if (!process.env.CLIENT_ID || !process.env.CLIENT_SECRET) {
  console.error("Set CLIENT_ID and CLIENT_SECRET (from `tessera client create … --json`).");
  process.exit(2);
}

// Plain http is for a Tessera on this machine only; production issuers are https.
const insecure = new URL(ISSUER).protocol === "http:" ? { execute: [oidc.allowInsecureRequests] } : undefined;
const config = await oidc.discovery(new URL(ISSUER), process.env.CLIENT_ID, undefined, oidc.ClientSecretBasic(process.env.CLIENT_SECRET), insecure);

/** Sign-ins under way, by the cookie that ties them to the browser; signed-in users, likewise. */
const pending = new Map();
const signedIn = new Map();

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body) => `<!doctype html><html lang="en"><meta charset="utf-8"><title>Example application</title><body>${body}</body></html>`;
const cookieOf = (req, name) => new RegExp(`(?:^|; )${name}=([^;]+)`).exec(req.headers.cookie ?? "")?.[1];

async function handle(req, res) {
  const url = new URL(req.url, APP);

  if (url.pathname === "/login") {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const key = randomUUID();
    pending.set(key, { verifier, state, nonce });
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid profile email",
      acr_values: LEVELS[url.searchParams.get("level")] ?? LEVELS[1],
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    res.writeHead(302, { location: authorize.href, "set-cookie": `pending=${key}; HttpOnly; SameSite=Lax; Path=/` }).end();
    return;
  }

  if (url.pathname === "/callback") {
    const key = cookieOf(req, "pending");
    const started = key && pending.get(key);
    pending.delete(key);
    if (!started) return void res.writeHead(400).end(page("<p>No sign-in under way. <a href=\"/\">Start again</a></p>"));
    if (url.searchParams.has("error")) {
      return void res.writeHead(200).end(page(`<p>Not signed in: <code>${escape(url.searchParams.get("error"))}</code>. <a href="/">Back</a></p>`));
    }
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
    });
    const claims = tokens.claims();
    const user = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    const session = randomUUID();
    signedIn.set(session, { claims, user, idToken: tokens.id_token });
    res.writeHead(303, { location: "/", "set-cookie": `session=${session}; HttpOnly; SameSite=Lax; Path=/` }).end();
    return;
  }

  if (url.pathname === "/logout") {
    const session = cookieOf(req, "session");
    const user = session && signedIn.get(session);
    signedIn.delete(session);
    if (!user) return void res.writeHead(303, { location: "/" }).end();
    // RP-initiated logout: Tessera asks the user to confirm, then sends them back here.
    const end = oidc.buildEndSessionUrl(config, { id_token_hint: user.idToken, post_logout_redirect_uri: `${APP}/` });
    res.writeHead(303, { location: end.href, "set-cookie": "session=; Max-Age=0; Path=/" }).end();
    return;
  }

  if (url.pathname === "/") {
    const user = signedIn.get(cookieOf(req, "session"));
    if (!user) return void res.writeHead(200, { "content-type": "text/html" }).end(page('<h1>Example application</h1><p><a href="/login">Sign in with Tessera</a> · <a href="/login?level=2">at level 2</a></p>'));
    const { claims, user: info } = user;
    const rows = Object.entries(info).map(([name, value]) => `<tr><th>${escape(name)}</th><td>${escape(typeof value === "object" ? JSON.stringify(value) : value)}</td></tr>`);
    return void res.writeHead(200, { "content-type": "text/html" }).end(
      page(`<h1>Hello, ${escape(info.given_name ?? claims.sub)}</h1>
<p>Signed in at <code id="acr">${escape(claims.acr)}</code> with <code id="amr">${escape((claims.amr ?? []).join(" "))}</code>.</p>
<table>${rows.join("")}</table>
<p><a href="/logout">Sign out</a></p>`),
    );
  }

  res.writeHead(404).end();
}

createServer((req, res) =>
  handle(req, res).catch((error) => {
    console.error(error);
    res.writeHead(500).end(page(`<p>Sign-in failed: ${escape(error.error ?? error.message)}</p>`));
  }),
).listen(PORT, "127.0.0.1", () => console.log(`Example application on ${APP}/ (issuer ${ISSUER})`));
