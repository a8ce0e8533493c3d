// The university's service portal (seed 001): a small web application whose users sign in with
// the `university` tenant over OpenID Connect (authorization code flow, PKCE, openid-client), and
// which shows who signed in, how (university credentials, SPID or CIE), with which second factor,
// and at which level. Two-factor authentication is the tenant's rule, not the portal's: every
// session it receives has two factors.
//
//   ISSUER=http://localhost:8080/t/university CLIENT_ID=… CLIENT_SECRET=… node examples/service-portal/server.mjs
//
// Register it first: tessera client create --tenant university --name "Servizi Online"
//   --redirect-uri http://localhost:3100/callback --post-logout-redirect-uri http://localhost:3100/ --json
// PORT changes the port (and so the redirect URI). Sign-ins under way and signed-in users are kept
// in memory to stay short; a real portal keeps them in its session store.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import * as oidc from "openid-client";

const ISSUER = process.env.ISSUER ?? "http://localhost:8080/t/university";
const PORT = Number(process.env.PORT ?? 3100);
const APP = `http://localhost:${PORT}`;
const REDIRECT_URI = `${APP}/callback`;
const EID = "https://attributes.eid.gov.it/";

if (!process.env.CLIENT_ID || !process.env.CLIENT_SECRET) {
  console.error("Set CLIENT_ID and CLIENT_SECRET (from `tessera client create --tenant university … --json`).");
  process.exit(2);
}
// Plain http is for a Tessera on this machine only.
const insecure = new URL(ISSUER).protocol === "http:" ? { execute: [oidc.allowInsecureRequests] } : undefined;
const config = await oidc.discovery(new URL(ISSUER), process.env.CLIENT_ID, undefined, oidc.ClientSecretBasic(process.env.CLIENT_SECRET), insecure);

const TEXT = {
  it: {
    title: "Servizi Online", signIn: "Accedi", signOut: "Esci", notSignedIn: "Accedi per usare i Servizi Online.", hello: "Benvenuto",
    who: "Chi", codicePersona: "Codice persona", fiscalCode: "Codice fiscale", how: "Come", secondFactor: "Secondo fattore", level: "Livello",
    local: "credenziali di Ateneo (codice persona e password)", spid: "SPID", cie: "CIE", app: "app di autenticazione (codice temporaneo)",
    passkey: "passkey", upstream: "SPID/CIE di livello 2", viaUpstream: "fornito dal gestore SPID/CIE (livello 2)", none: "nessuno", failed: "Accesso non riuscito",
  },
  en: {
    title: "Online Services", signIn: "Sign in", signOut: "Sign out", notSignedIn: "Sign in to use the Online Services.", hello: "Welcome",
    who: "Who", codicePersona: "Codice persona", fiscalCode: "Codice fiscale", how: "How", secondFactor: "Second factor", level: "Level",
    local: "University credentials (codice persona and password)", spid: "SPID", cie: "CIE", app: "authenticator app (one-time code)",
    passkey: "passkey", upstream: "SPID/CIE at level 2", viaUpstream: "given by the SPID/CIE provider (level 2)", none: "none", failed: "Sign-in failed",
  },
};

/** How the user signed in, read from the ID token's `amr` (RFC 8176, and Tessera's `spid`/`cie`). */
function how(amr, t) {
  const has = (v) => amr.includes(v);
  const upstream = has("spid") ? "spid" : has("cie") ? "cie" : undefined;
  const firstFactor = has("pwd") ? t.local : upstream ? t[upstream] : t.passkey;
  let second = t.none;
  if (has("pwd") && upstream) second = t.upstream;
  else if (has("otp")) second = t.app;
  else if (has("hwk") || has("swk")) second = t.passkey;
  else if (upstream && has("mfa")) second = t.viaUpstream;
  return { via: has("pwd") ? "local" : upstream ?? "passkey", firstFactor, second };
}

const pending = new Map();
const signedIn = new Map();
const escape = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cookieOf = (req, name) => new RegExp(`(?:^|; )${name}=([^;]+)`).exec(req.headers.cookie ?? "")?.[1];
const langOf = (req) => (/^\s*en\b/i.test(req.headers["accept-language"] ?? "") ? "en" : "it");
const page = (lang, body) => `<!doctype html><html lang="${lang}"><meta charset="utf-8"><title>${TEXT[lang].title}</title><body><h1>${TEXT[lang].title}</h1>${body}</body></html>`;

async function handle(req, res) {
  const url = new URL(req.url, APP);
  const lang = langOf(req);
  const t = TEXT[lang];

  if (url.pathname === "/login") {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const key = randomUUID();
    pending.set(key, { verifier, state, nonce });
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid profile email",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    return void res.writeHead(302, { location: authorize.href, "set-cookie": `pending=${key}; HttpOnly; SameSite=Lax; Path=/` }).end();
  }

  if (url.pathname === "/callback") {
    const key = cookieOf(req, "pending");
    const started = key && pending.get(key);
    pending.delete(key);
    if (!started) return void res.writeHead(400, { "content-type": "text/html" }).end(page(lang, `<p><a href="/">${t.signIn}</a></p>`));
    if (url.searchParams.has("error")) {
      return void res.writeHead(200, { "content-type": "text/html" }).end(page(lang, `<p id="error">${t.failed}: <code>${escape(url.searchParams.get("error"))}</code></p><p><a href="/">${t.signIn}</a></p>`));
    }
    const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: started.verifier, expectedState: started.state, expectedNonce: started.nonce });
    const claims = tokens.claims();
    const user = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    const session = randomUUID();
    signedIn.set(session, { claims, user, idToken: tokens.id_token });
    return void res.writeHead(303, { location: "/", "set-cookie": `session=${session}; HttpOnly; SameSite=Lax; Path=/` }).end();
  }

  if (url.pathname === "/logout") {
    const session = cookieOf(req, "session");
    const user = session && signedIn.get(session);
    signedIn.delete(session);
    if (!user) return void res.writeHead(303, { location: "/" }).end();
    const end = oidc.buildEndSessionUrl(config, { id_token_hint: user.idToken, post_logout_redirect_uri: `${APP}/` });
    return void res.writeHead(303, { location: end.href, "set-cookie": "session=; Max-Age=0; Path=/" }).end();
  }

  if (url.pathname === "/") {
    const user = signedIn.get(cookieOf(req, "session"));
    if (!user) return void res.writeHead(200, { "content-type": "text/html" }).end(page(lang, `<p>${t.notSignedIn}</p><p><a id="sign-in" href="/login">${t.signIn}</a></p>`));
    const { claims, user: info } = user;
    const amr = claims.amr ?? [];
    const way = how(amr, t);
    const level = /SpidL(\d)$/.exec(claims.acr ?? "")?.[1] ?? "?";
    const row = (id, label, value) => `<tr><th>${label}</th><td id="${id}">${escape(value)}</td></tr>`;
    return void res.writeHead(200, { "content-type": "text/html" }).end(
      page(
        lang,
        `<p>${t.hello}, <strong id="name">${escape([info.given_name, info.family_name].filter(Boolean).join(" "))}</strong></p>
<table>
${row("codice-persona", t.codicePersona, info.preferred_username)}
${row("fiscal-code", t.fiscalCode, (info[`${EID}fiscal_number`] ?? "").replace(/^TINIT-/, ""))}
${row("via", t.how, way.firstFactor)}
${row("second-factor", t.secondFactor, way.second)}
${row("level", t.level, level)}
</table>
<p>amr: <code id="amr">${escape(amr.join(" "))}</code> · acr: <code id="acr">${escape(claims.acr)}</code></p>
<p><a href="/logout">${t.signOut}</a></p>`,
      ),
    );
  }
  res.writeHead(404).end();
}

createServer((req, res) =>
  handle(req, res).catch((error) => {
    console.error(error);
    res.writeHead(500, { "content-type": "text/html" }).end(page("en", `<p>Sign-in failed: ${escape(error.error ?? error.message)}</p>`));
  }),
).listen(PORT, "127.0.0.1", () => console.log(`Service portal on ${APP}/ (issuer ${ISSUER})`));
