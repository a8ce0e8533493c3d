/**
 * The least a password sign-in can be: Fastify, the form body, one argon2id verification on the
 * password-hashing lanes Tessera uses (identity/password/hashing-pool.ts), a 303 with a fresh
 * session cookie, and nothing else (no store, no flow, no audit, no brute-force counters). Run by
 * bench/run.ts as a child process and driven exactly as Tessera's password login, it is the
 * ceiling that the login target (0.9 × raw argon2id) must be read against on this machine: what a
 * server that does nothing but the hash reaches while the load generator shares the cores.
 *
 *   node --import tsx bench/least-login.ts '{"memoryKiB":19456,"iterations":2,"parallelism":1}'
 */
import { randomBytes } from "node:crypto";
import formbody from "@fastify/formbody";
import Fastify from "fastify";
import { hashSecret, type HashingParams, verifySecret } from "../src/identity/password/hashing.ts";
import { PASSWORD } from "./identities.ts";

const params = JSON.parse(process.argv[2] ?? "") as HashingParams;
const phc = await hashSecret(PASSWORD, params);

const app = Fastify({ logger: false });
await app.register(formbody);
app.post("/t/national/login", async (request, reply) => {
  const { password } = request.body as { password?: string };
  if (!password || !(await verifySecret(phc, password))) return reply.code(401).send();
  return reply.code(303).header("set-cookie", `session=${randomBytes(32).toString("base64url")}; HttpOnly; Secure; SameSite=Lax; Path=/`).header("location", "/t/national/account").send();
});
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
console.log(`least login on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
