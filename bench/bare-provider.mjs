// oidc-provider by itself (in-memory adapter, one static client, no Tessera around it), answering
// client-credentials requests with ES256 JWT access tokens: bench/run.ts's baseline for what
// Tessera adds (its store adapter, Fastify, tenants, audit).
//
// With `--behind-fastify` it is handed its requests by Fastify under a tenant's path, as
// web/routes/oidc.ts mounts Tessera's providers (the raw request passed on, the reply hijacked):
// what the mount alone costs, so that the client_credentials target can be read against the
// ceiling of Tessera's stack on this machine.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import Fastify from "fastify";
import Provider from "oidc-provider";

const RESOURCE = "https://api.example.org/";
const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });

const behindFastify = process.argv.includes("--behind-fastify");
const PREFIX = "/t/bench";
let handler = () => {};
let server;
if (behindFastify) {
  const app = Fastify({ logger: false });
  // The provider reads its own bodies, as Tessera leaves them to it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  app.all(`${PREFIX}/*`, async (request, reply) => {
    const req = request.raw;
    req.originalUrl = req.url;
    req.url = req.url.slice(PREFIX.length) || "/";
    reply.hijack();
    await new Promise((resolve) => {
      reply.raw.once("close", resolve);
      void handler(req, reply.raw);
    });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  server = app.server;
} else {
  server = createServer((req, res) => handler(req, res));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
}
const issuer = `http://127.0.0.1:${server.address().port}${behindFastify ? PREFIX : ""}`;

const provider = new Provider(issuer, {
  clients: [{ client_id: "bench", client_secret: "bench-secret-bench-secret-bench-secret", grant_types: ["client_credentials"], redirect_uris: [], response_types: [], id_token_signed_response_alg: "ES256" }],
  jwks: { keys: [{ ...key, kid: "bench", alg: "ES256", use: "sig" }] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      getResourceServerInfo: () => ({ scope: "", audience: RESOURCE, accessTokenTTL: 3600, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } }),
      useGrantedResource: () => false,
    },
  },
});
handler = provider.callback();
console.log(`bare oidc-provider${behindFastify ? " behind Fastify" : ""} on ${issuer}`);
