import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import * as oauth from "openid-client";
import { VIRTUAL_CARD_CLIENT_ID } from "../shared/virtual-card.ts";
import { CardError } from "./errors.ts";

/** How long the card waits for any answer of the server: a lost network is an error, never a hang. */
export const NETWORK_TIMEOUT_MS = 20_000;

/** What `tessera card login` keeps on the desktop (mode 0600): where to sign, and the tokens. */
export interface CardSession {
  server: string;
  tenant: string;
  issuer: string;
  /** The tenant's CSC API: the resource the access tokens are for. */
  csc: string;
  /** The provider's metadata the card needs again (token and revocation endpoints). */
  metadata: { issuer: string; authorization_endpoint: string; token_endpoint: string; revocation_endpoint?: string; jwks_uri?: string };
  holder: { sub: string; name: string };
  accessToken: string;
  /** When the access token expires (ms since the epoch). */
  expiresAt: number;
  refreshToken: string | null;
}

/** Where the session lives: `$XDG_CONFIG_HOME/tessera/card.json` (`~/.config` without it). */
export function sessionPath(env: NodeJS.ProcessEnv): string {
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(config, "tessera", "card.json");
}

export async function readSession(path: string): Promise<CardSession> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CardError("not_signed_in", "Not signed in: run `tessera card login --server URL --tenant TENANT` first");
  }
  return JSON.parse(text) as CardSession;
}

/** Written whole, then renamed: a reader never sees half a file; only its owner can read it. */
export async function writeSession(path: string, session: CardSession): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(session, null, 2), { mode: 0o600 });
  await rename(temporary, path);
}

/** The provider as openid-client sees it, with a timeout on every call; plain http only to this machine. */
function configurationOf(metadata: CardSession["metadata"] | oauth.ServerMetadata): oauth.Configuration {
  const config = new oauth.Configuration(metadata, VIRTUAL_CARD_CLIENT_ID, undefined, oauth.None());
  applyTimeout(config, metadata.issuer);
  return config;
}

function applyTimeout(config: oauth.Configuration, issuer: string) {
  config[oauth.customFetch] = (url, options) => fetch(url, { ...options, signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) });
  if (new URL(issuer).protocol === "http:") oauth.allowInsecureRequests(config);
}

const networkError = (server: string, error: unknown) =>
  new CardError("network", `Cannot reach ${server}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`);

/** openid-client's failures in the card's words: the server's refusal, or the network's. */
function oauthFailure(server: string, error: unknown): CardError {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
    return new CardError("refused", `${server} refused: ${error.error}${error.error_description ? ` (${error.error_description})` : ""}`);
  }
  return networkError(server, error);
}

export interface LoginOptions {
  server: string;
  tenant: string;
  /** Shows the sign-in address to the person (and opens their browser, where there is one). */
  show(url: string): void;
  /** How long to wait for the person to sign in. */
  timeoutMs?: number;
}

/**
 * Signs the desktop in (RFC 8252, OAuth for native apps): the tenant's own sign-in pages in the
 * browser (DNI, password, one-time code), back to a loopback address of this machine on a port
 * chosen now, the code exchanged with PKCE for tokens for the tenant's CSC API.
 */
export async function login(options: LoginOptions): Promise<CardSession> {
  const server = options.server.replace(/\/+$/, "");
  const issuer = `${server}/t/${options.tenant}`;
  const csc = `${issuer}/csc/v2`;
  let config: oauth.Configuration;
  try {
    config = await oauth.discovery(new URL(issuer), VIRTUAL_CARD_CLIENT_ID, undefined, oauth.None(), {
      execute: new URL(issuer).protocol === "http:" ? [oauth.allowInsecureRequests] : [],
      timeout: NETWORK_TIMEOUT_MS / 1000,
    });
  } catch (error) {
    throw oauthFailure(server, error);
  }
  const metadata = config.serverMetadata();
  applyTimeout(config, issuer);
  const verifier = oauth.randomPKCECodeVerifier();
  const state = oauth.randomState();

  const callback = await new Promise<{ close: () => void; redirectUri: string; arrived: Promise<URL> }>((resolve, reject) => {
    let arrive: (url: URL) => void;
    const arrived = new Promise<URL>((r) => (arrive = r));
    const http = createServer((req, res) => {
      const url = new URL(req.url ?? "/", `http://127.0.0.1`);
      if (url.pathname !== "/callback" || url.searchParams.get("state") !== state) {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found\n");
        return;
      }
      const ok = url.searchParams.has("code");
      res.writeHead(ok ? 200 : 400, { "content-type": "text/plain; charset=utf-8" }).end(ok ? "Tessera: the virtual card is signed in. You can close this window.\n" : "Tessera: the sign-in did not complete. See the terminal.\n");
      arrive(new URL(`${redirectUriOf(http)}${url.search}`));
    });
    const redirectUriOf = (s: typeof http) => `http://127.0.0.1:${(s.address() as { port: number }).port}/callback`;
    http.on("error", reject);
    http.listen(0, "127.0.0.1", () => resolve({ close: () => http.close(), redirectUri: redirectUriOf(http), arrived }));
  });

  try {
    const authorizationUrl = oauth.buildAuthorizationUrl(config, {
      redirect_uri: callback.redirectUri,
      // `service`: the CSC API's scope for listing credentials and authorising their signatures.
      scope: "openid profile service",
      resource: csc,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    });
    options.show(authorizationUrl.href);
    const timeout = options.timeoutMs ?? 10 * 60_000;
    let timer: NodeJS.Timeout | undefined;
    const back = await Promise.race([
      callback.arrived,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CardError("refused", `No sign-in within ${Math.round(timeout / 60_000)} minutes`)), timeout))),
    ]).finally(() => clearTimeout(timer));
    let tokens: Awaited<ReturnType<typeof oauth.authorizationCodeGrant>>;
    try {
      tokens = await oauth.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true }, { resource: csc });
    } catch (error) {
      throw oauthFailure(server, error);
    }
    const claims = tokens.claims();
    const name = [claims?.given_name, claims?.family_name].filter((s) => typeof s === "string").join(" ");
    return {
      server,
      tenant: options.tenant,
      issuer,
      csc,
      metadata: {
        issuer: metadata.issuer,
        authorization_endpoint: metadata.authorization_endpoint!,
        token_endpoint: metadata.token_endpoint!,
        ...(metadata.revocation_endpoint ? { revocation_endpoint: metadata.revocation_endpoint } : {}),
        ...(metadata.jwks_uri ? { jwks_uri: metadata.jwks_uri } : {}),
      },
      holder: { sub: claims?.sub ?? "", name: name || (claims?.sub ?? "") },
      accessToken: tokens.access_token,
      expiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000,
      refreshToken: tokens.refresh_token ?? null,
    };
  } finally {
    callback.close();
  }
}

/**
 * The session's tokens, kept fresh: an access token about to expire is renewed with the refresh
 * token (rotated by the server, so the new one is written back at once: `card sign` and `card
 * serve` share the file and each reads it again before renewing).
 */
export class TokenKeeper {
  private renewing: Promise<string> | undefined;

  constructor(
    private readonly path: string,
    private session: CardSession,
  ) {}

  get current(): CardSession {
    return this.session;
  }

  async accessToken(): Promise<string> {
    if (this.session.expiresAt - 60_000 > Date.now()) return this.session.accessToken;
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** The server refused the access token (revoked, keys rotated): renew before saying so. */
  async refused(): Promise<string> {
    this.session = { ...this.session, expiresAt: 0 };
    return this.accessToken();
  }

  /**
   * Renews under a lock file: the server rotates refresh tokens and treats the reuse of a spent
   * one as theft (it ends the whole grant), so two commands must never renew with the same one.
   */
  private async renew(): Promise<string> {
    return withLock(`${this.path}.lock`, async () => {
      // Signed out meanwhile (the file is gone), or signed in again as someone else: this session ends.
      const latest = await readSession(this.path);
      if (latest.issuer !== this.session.issuer || latest.holder.sub !== this.session.holder.sub) {
        throw new CardError("not_signed_in", "This desktop was signed in again as someone else: start the command again");
      }
      // Another command may have renewed it meanwhile (and spent the refresh token we hold).
      if (latest.refreshToken !== this.session.refreshToken && latest.expiresAt - 60_000 > Date.now()) {
        this.session = latest;
        return latest.accessToken;
      }
      if (!latest.refreshToken) throw new CardError("not_signed_in", "The sign-in has expired: run `tessera card login` again");
      let tokens: Awaited<ReturnType<typeof oauth.refreshTokenGrant>>;
      try {
        tokens = await oauth.refreshTokenGrant(configurationOf(latest.metadata), latest.refreshToken, { resource: latest.csc });
      } catch (error) {
        const failure = oauthFailure(latest.server, error);
        if (failure.reason === "refused") throw new CardError("not_signed_in", "The sign-in has expired or was ended: run `tessera card login` again");
        throw failure;
      }
      this.session = { ...latest, accessToken: tokens.access_token, expiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000, refreshToken: tokens.refresh_token ?? latest.refreshToken };
      await writeSession(this.path, this.session);
      return this.session.accessToken;
    });
  }
}

/** Runs `work` holding a lock file (created exclusively; one left by a process that died is taken after 30 s). */
async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: "wx", mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const held = await stat(path).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > 30_000) await rm(path, { force: true });
      else if (Date.now() - started > NETWORK_TIMEOUT_MS + 5_000) throw new CardError("server", `${path} stays locked: is another card command stuck?`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

/** Ends the desktop's sign-in: the refresh token revoked at the server (where reachable), the file removed. */
export async function logout(path: string): Promise<{ revoked: boolean }> {
  const session = await readSession(path);
  let revoked = false;
  if (session.refreshToken && session.metadata.revocation_endpoint) {
    try {
      await oauth.tokenRevocation(configurationOf(session.metadata), session.refreshToken, { token_type_hint: "refresh_token" });
      revoked = true;
    } catch {
      // Signed out here all the same; the token expires on its own.
    }
  }
  await rm(path, { force: true });
  return { revoked };
}
