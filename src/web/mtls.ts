import "reflect-metadata";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { FastifyBaseLogger } from "fastify";
import { findAccount } from "../identity/accounts.ts";
import { submitStep } from "../flows/engine.ts";
import { LOGIN } from "../flows/login/data.ts";
import { MEMBERSHIP_REQUEST } from "../flows/membership-request/data.ts";
import { handshakeProof } from "../flows/professionals/card.ts";
import { proofByCns } from "../flows/proofing/cns.ts";
import type { Secrets } from "../shared/crypto/secrets.ts";
import type { Clock } from "../shared/clock.ts";
import { TesseraError } from "../shared/errors.ts";
import { newToken } from "../shared/ids.ts";
import { findTenant } from "../tenants/service.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { flowRegistry } from "./flows.ts";
import { pkiDeps, tenantUrl, type WebServices } from "./services.ts";

x509.cryptoProvider.set(globalThis.crypto);

const TICKET_MS = 10 * 60_000;

/**
 * What a browser goes to the mutual-TLS endpoint for: identification by CNS (seed 000), a
 * professional's request with their card, or a sign-in with it (seed 002).
 */
export type MtlsPurpose = "cns" | "card" | "login";

const TICKET_ERRORS: Record<MtlsPurpose, string> = { cns: "proofing.ticket_invalid", card: "professionals.ticket_invalid", login: "login.card.ticket_invalid" };

/**
 * The browser crosses to another origin at the mutual-TLS endpoint, so it carries a ticket: what
 * for, whose (an account, a flow) and an expiry, with the master key's MAC, good for ten minutes.
 */
export function mtlsTicket(deps: { secrets: Secrets; clock: Clock }, tenant: Tenant, purpose: MtlsPurpose, subject: string): string {
  const body = `${tenant.id}.${subject}.${deps.clock.now() + TICKET_MS}`;
  return `${body}.${deps.secrets.mac(`mtls-ticket:${purpose}:${body}`)}`;
}

/** The subject a ticket names, if it is genuine, for this purpose, and unexpired. */
export function redeemMtlsTicket(deps: { secrets: Secrets; clock: Clock }, tenant: Tenant, purpose: MtlsPurpose, ticket: string): string {
  const [tenantId, subject, expires, mac] = ticket.split(".");
  const body = `${tenantId}.${subject}.${expires}`;
  if (!mac || tenantId !== tenant.id || !deps.secrets.macEquals(`mtls-ticket:${purpose}:${body}`, mac) || Number(expires) < deps.clock.now()) {
    throw new TesseraError(TICKET_ERRORS[purpose], "the link has expired: start again", { status: 403 });
  }
  return subject!;
}

export interface MtlsServer {
  /** Its public origin, `https://<host>:<port>`. */
  url: string;
  close(): Promise<void>;
}

/** The chain the browser sent, leaf first, as DER (Node links each certificate to its issuer; a root links to itself). */
function peerChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let current: PeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current?.raw && !chain.some((c) => c.equals(current!.raw))) {
    chain.push(current.raw);
    current = (current as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return chain;
}

/** A development certificate for the endpoint's host name, made at start (never in production: `mtlsCert`, `mtlsKey`). */
async function selfSigned(hostname: string): Promise<{ cert: string; key: string }> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${hostname}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
    keys: keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([/^[\d.]+$/.test(hostname) ? { type: "ip", value: hostname } : { type: "dns", value: hostname }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return { cert: cert.toString("pem"), key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n` };
}

/**
 * The mutual-TLS endpoint (`--mtls-port`) for certificates on cards: a TLS server that asks every
 * client for a certificate, accepts any in the handshake, and leaves the checking to Tessera (chain
 * to the tenant's trust list, revocation, the holder's identifier), so that a refusal is told in
 * words on the page the browser goes back to rather than as a broken connection. Three paths, each
 * reached with a ticket and answering with a redirect back:
 * - `GET /t/<tenant>/proofing/cns?ticket=…`: identification by CNS (flows/proofing/cns.ts), back to the panel;
 * - `GET /t/<tenant>/request/card?ticket=…`: a professional's request with their card
 *   (flows/membership-request), back to the request's page;
 * - `GET /t/<tenant>/login/card?ticket=…`: a sign-in with the card (flows/login/steps/card.ts),
 *   on to the sign-in's page that opens the session.
 */
export async function startMtlsServer(options: {
  port: number;
  host: string;
  publicUrl: string;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  services: WebServices;
  log: FastifyBaseLogger;
}): Promise<MtlsServer> {
  const hostname = new URL(options.publicUrl).hostname;
  const credentials = options.certFile && options.keyFile ? { cert: readFileSync(options.certFile, "utf8"), key: readFileSync(options.keyFile, "utf8") } : await selfSigned(hostname);
  const { services } = options;
  const deps = pkiDeps(services);
  const registry = flowRegistry(services);

  /** CNS: the account's identity is proven by the card, or the refusal's reason goes back to the panel. */
  async function cns(tenant: Tenant, ticket: string, chain: Buffer[], ip: string | null): Promise<string> {
    const back = `${tenantUrl(services, tenant)}/account`;
    try {
      const accountId = redeemMtlsTicket(deps, tenant, "cns", ticket);
      const account = await findAccount(deps, tenant, accountId);
      if (!account) throw new TesseraError("proofing.ticket_invalid", "no such account", { status: 403 });
      await proofByCns(deps, tenant, account, chain, { actor: `account:${account.id}`, ip }, { accountUrl: back });
      return `${back}?notice=proofing.approved`;
    } catch (error) {
      if (!(error instanceof TesseraError) || error.status >= 500) throw error;
      const reason = error.params.reason;
      return `${back}?${typeof reason === "string" ? `refused=${encodeURIComponent(reason)}` : `error=${encodeURIComponent(error.code)}`}`;
    }
  }

  /**
   * The card step of a flow (a request with a card, a sign-in with one): the chain, with the proof
   * it came from this handshake, submitted as the browser bound to the flow would; then back to
   * the tenant's origin: `done` where the step went on, `refused` with the reason where not.
   */
  async function cardStep(
    tenant: Tenant,
    ticket: string,
    chain: Buffer[],
    ip: string | null,
    flow: { kind: typeof MEMBERSHIP_REQUEST | typeof LOGIN; purpose: MtlsPurpose; start: string; done: (flowId: string, answer: string) => string; refused: (flowId: string) => string },
  ): Promise<string> {
    let flowId: string;
    try {
      flowId = redeemMtlsTicket(deps, tenant, flow.purpose, ticket);
    } catch (error) {
      if (!(error instanceof TesseraError)) throw error;
      return `${flow.start}?error=${encodeURIComponent(error.code)}`;
    }
    const definition = registry.anyForTenant(tenant, flow.kind);
    if (!definition) return `${flow.start}?error=http.not_found`;
    // Goes back only with this browser: the one bound to the flow must bring it to finish.
    const answer = newToken();
    try {
      const { outcome } = await submitStep(services, tenant, definition, flowId, {
        step: "card",
        input: { chain: chain.map((der) => der.toString("base64")), proof: handshakeProof(services.secrets, flowId, chain), answer },
        channel: "browser",
        // The ticket proves the browser came from the flow's page; there is no form here.
        viaEmailLink: true,
        by: { actor: "anonymous", ip },
        locale: tenant.defaultLocale,
        tenantUrl: tenantUrl(services, tenant),
      });
      const refused = outcome.type === "reject" ? outcome.errors[0]?.code : undefined;
      return refused ? `${flow.refused(flowId)}?error=${encodeURIComponent(refused)}` : flow.done(flowId, answer);
    } catch (error) {
      if (!(error instanceof TesseraError) || error.status >= 500) throw error;
      return `${flow.refused(flowId)}?error=${encodeURIComponent(error.code)}`;
    }
  }

  /** A professional's request: back to its page, made or with the card's refusal. */
  const requestCard = (tenant: Tenant, ticket: string, chain: Buffer[], ip: string | null) => {
    const requests = `${tenantUrl(services, tenant)}/request`;
    const page = (flowId: string) => `${requests}/${flowId}`;
    const done = (flowId: string, answer: string) => `${page(flowId)}/card-answer?answer=${answer}`;
    return cardStep(tenant, ticket, chain, ip, { kind: MEMBERSHIP_REQUEST, purpose: "card", start: requests, done, refused: page });
  };

  /** A sign-in: on to open the session on the tenant's origin, or back to the sign-in page with the reason. */
  const loginCard = (tenant: Tenant, ticket: string, chain: Buffer[], ip: string | null) => {
    const login = `${tenantUrl(services, tenant)}/login`;
    return cardStep(tenant, ticket, chain, ip, {
      kind: LOGIN,
      purpose: "login",
      start: login,
      done: (flowId, answer) => `${login}/${flowId}/card-answer?answer=${answer}`,
      // Through the flow, so that the sign-in page keeps where the user was going.
      refused: (flowId) => `${login}/${flowId}/card-refused`,
    });
  };

  const PATHS: Record<string, (tenant: Tenant, ticket: string, chain: Buffer[], ip: string | null) => Promise<string>> = { "proofing/cns": cns, "request/card": requestCard, "login/card": loginCard };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "https://mtls.invalid");
    const match = /^\/t\/([a-z][a-z0-9-]{1,31})\/(proofing\/cns|request\/card|login\/card)$/.exec(url.pathname);
    const tenant = match && request.method === "GET" ? await findTenant(services.store.repos, match[1]!) : undefined;
    if (!tenant) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    const location = await PATHS[match![2]!]!(tenant, url.searchParams.get("ticket") ?? "", peerChain(request.socket as TLSSocket), request.socket.remoteAddress ?? null);
    response.writeHead(303, { location, "cache-control": "no-store" }).end();
  }

  const server: Server = createServer({ ...credentials, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2" }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.log.error({ err: error }, "mutual-TLS request failed");
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("server error\n");
    });
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(options.port, options.host, () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    url: `https://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
