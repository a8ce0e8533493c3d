import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";

/** Static files: few and small, so they are read once and revalidated by ETag. */
const ASSETS: Record<string, string> = {
  "tessera.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
  "passkeys.js": "text/javascript; charset=utf-8",
  "enrolment.js": "text/javascript; charset=utf-8",
  "saml-post.js": "text/javascript; charset=utf-8",
};

export async function assetRoutes(app: FastifyInstance) {
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = readFileSync(new URL(`../assets/${name}`, import.meta.url));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"`;
    app.get(`/assets/${name}`, async (request, reply) => {
      reply.header("etag", etag).header("cache-control", "public, max-age=3600");
      if (request.headers["if-none-match"] === etag) return reply.code(304).send();
      return reply.type(type).send(body);
    });
  }
}
