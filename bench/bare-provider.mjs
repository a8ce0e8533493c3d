// oidc-provider by itself (in-memory adapter, one static client, no Tessera around it), answering
// client-credentials requests with ES256 JWT access tokens: bench/oidc.ts's baseline for what
// Tessera adds (its store adapter, Fastify, tenants, audit).
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";

const RESOURCE = "https://api.example.org/";
const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });

const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

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
server.on("request", provider.callback());
console.log(`bare oidc-provider on ${issuer}`);
