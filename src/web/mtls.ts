import "reflect-metadata";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { FastifyBaseLogger } from "fastify";
import { findAccount } from "../identity/accounts.ts";
import { proofByCns, redeemCnsTicket } from "../flows/proofing/cns.ts";
import { TesseraError } from "../shared/errors.ts";
import { findTenant } from "../tenants/service.ts";
import { pkiDeps, type WebServices } from "./services.ts";

x509.cryptoProvider.set(globalThis.crypto);

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
 * The mutual-TLS endpoint (`--mtls-port`) for identification by CNS card (seed 000): a TLS server
 * that asks every client for a certificate, accepts any in the handshake, and leaves the checking
 * to Tessera (chain to the tenant's CNS list, revocation, codice fiscale: flows/proofing/cns.ts),
 * so that a refusal is told in words on the panel rather than as a broken connection. One path:
 * `GET /t/<tenant>/proofing/cns?ticket=…`, which answers with a redirect back to the panel.
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

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "https://mtls.invalid");
    const match = /^\/t\/([a-z][a-z0-9-]{1,31})\/proofing\/cns$/.exec(url.pathname);
    const tenant = match && request.method === "GET" ? await findTenant(services.store.repos, match[1]!) : undefined;
    if (!tenant) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    const back = (query: string) => response.writeHead(303, { location: `${services.publicUrl.current}/t/${tenant.id}/account?${query}`, "cache-control": "no-store" }).end();
    try {
      const accountId = redeemCnsTicket(deps, tenant, url.searchParams.get("ticket") ?? "");
      const account = await findAccount(deps, tenant, accountId);
      if (!account) throw new TesseraError("proofing.ticket_invalid", "no such account", { status: 403 });
      const by = { actor: `account:${account.id}`, ip: request.socket.remoteAddress ?? null };
      await proofByCns(deps, tenant, account, peerChain(request.socket as TLSSocket), by, { accountUrl: `${services.publicUrl.current}/t/${tenant.id}/account` });
      back("notice=proofing.approved");
    } catch (error) {
      if (!(error instanceof TesseraError) || error.status >= 500) throw error;
      const reason = error.params.reason;
      back(typeof reason === "string" ? `refused=${encodeURIComponent(reason)}` : `error=${encodeURIComponent(error.code)}`);
    }
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
