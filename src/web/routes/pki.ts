import type { FastifyInstance, FastifyReply } from "fastify";
import { type Hierarchy, chainPem, requireHierarchy } from "../../pki/authorities.ts";
import { pem } from "../../pki/certificate.ts";
import { currentCrl } from "../../pki/crl.ts";
import { answerOcsp } from "../../pki/ocsp.ts";
import { timestamp } from "../../pki/tsa.ts";
import { pkiUrls } from "../../pki/urls.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { pageContext } from "../page-context.ts";
import { pkiDeps, tenantUrl, type WebServices } from "../services.ts";
import { pdsPage } from "../views/pki.ts";

/** Requests are small: a DER OCSP request or time-stamp query of a few hundred bytes. */
const BODY_LIMIT = 16 * 1024;

/**
 * What a tenant's PKI publishes under `/t/<tenant>/pki/`: the certificates of its authorities,
 * CRLs (DER, and PEM for people), the OCSP responder (RFC 6960 POST and GET, Appendix A) and the
 * time-stamping authority (RFC 3161 over HTTP, §3.4). A tenant without a PKI answers 404.
 */
export function pkiRoutes(services: WebServices) {
  const deps = pkiDeps(services);
  return async (app: FastifyInstance) => {
    app.addContentTypeParser(["application/ocsp-request", "application/timestamp-query"], { parseAs: "buffer", bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

    const hierarchy = (tenant: Tenant) => requireHierarchy(deps, tenant);
    const der = (reply: FastifyReply, type: string, body: Buffer) => reply.type(type).send(body);

    app.get("/ca.pem", async (request, reply) => reply.type("application/x-pem-file").send(pem("CERTIFICATE", (await hierarchy(request.tenant!)).root.der)));
    app.get("/chain.pem", async (request, reply) => reply.type("application/x-pem-file").send(chainPem(await hierarchy(request.tenant!))));
    app.get("/root.crt", async (request, reply) => der(reply, "application/pkix-cert", (await hierarchy(request.tenant!)).root.der));
    app.get("/issuing.crt", async (request, reply) => der(reply, "application/pkix-cert", (await hierarchy(request.tenant!)).issuing.der));
    app.get("/tsa.pem", async (request, reply) => reply.type("application/x-pem-file").send(pem("CERTIFICATE", (await hierarchy(request.tenant!)).tsa.der)));

    const crl = async (tenant: Tenant, role: keyof Pick<Hierarchy, "root" | "issuing">) => Buffer.from((await currentCrl(deps, tenant, (await hierarchy(tenant))[role])).der, "base64");
    app.get("/crl", async (request, reply) => der(reply, "application/pkix-crl", await crl(request.tenant!, "issuing")));
    app.get("/crl.pem", async (request, reply) => reply.type("application/x-pem-file").send(pem("X509 CRL", await crl(request.tenant!, "issuing"))));
    app.get("/root.crl", async (request, reply) => der(reply, "application/pkix-crl", await crl(request.tenant!, "root")));

    const ocsp = async (tenant: Tenant, reply: FastifyReply, body: Buffer) => {
      await hierarchy(tenant);
      return der(reply, "application/ocsp-response", await answerOcsp(deps, tenant, body));
    };
    // An empty body reaches here without a parser: it is as malformed as any other.
    app.post("/ocsp", async (request, reply) => ocsp(request.tenant!, reply, Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)));
    // RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
    app.get("/ocsp/*", async (request, reply) => {
      const encoded = (request.params as { "*": string })["*"];
      let body: Buffer;
      try {
        body = Buffer.from(decodeURIComponent(encoded), "base64");
      } catch {
        body = Buffer.alloc(0);
      }
      return ocsp(request.tenant!, reply, body);
    });

    app.post("/tsa", async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      await hierarchy(request.tenant!);
      return der(reply, "application/timestamp-reply", await timestamp(deps, request.tenant!, body));
    });

    app.get("/pds", async (request, reply) => {
      const tenant = request.tenant!;
      const base = tenantUrl(services, tenant);
      const urls = { ...pkiUrls(base), chain: `${base}/pki/chain.pem`, root: `${base}/pki/ca.pem`, tsa: `${base}/pki/tsa` };
      const page = pdsPage(pageContext(request), await hierarchy(tenant), urls, { tsaPolicy: tenant.policy.pki.tsa.policy, certificateDays: tenant.policy.pki.validity.certificateDays });
      return reply.type("text/html; charset=utf-8").send(page.value);
    });
  };
}
