import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { connectRedis, type FallbackEvent, redisOrFallback } from "../../src/store/redis.ts";
import { afterEach, describe, expect, it } from "vitest";
import { type TestApp, testApp } from "../helpers/app.ts";

const HTML = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close().catch(() => {});
});

describe("health and metrics", () => {
  it("answers /healthz and /readyz, and /readyz goes 503 when the database is gone", async () => {
    t = await testApp();
    expect((await t.app.inject("/healthz")).json()).toEqual({ status: "ok" });
    const ready = await t.app.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    await t.store.close();
    const gone = await t.app.inject("/readyz");
    expect(gone.statusCode).toBe(503);
    expect(gone.json()).toMatchObject({ status: "unavailable", error: "temporarily_unavailable" });
    expect((await t.app.inject("/healthz")).statusCode).toBe(200);
  });

  it("answers /readyz 503 once the node is stopping, while it still serves", async () => {
    t = await testApp();
    t.app.lifecycle.stopping = true;
    const stopping = await t.app.inject("/readyz");
    expect(stopping.statusCode).toBe(503);
    expect(stopping.json()).toMatchObject({ status: "stopping" });
    expect((await t.app.inject("/t/national/")).statusCode).toBe(200);
  });

  it("exposes Prometheus metrics per route template", async () => {
    t = await testApp();
    await t.app.inject("/t/national/");
    await t.app.inject("/t/pro/");
    await t.app.inject("/t/nope/");
    const metrics = await t.app.inject("/metrics");
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('http_requests_total{method="GET",route="/t/:tenant",status_code="200"} 2');
    expect(metrics.body).toContain('http_requests_total{method="GET",route="/t/:tenant",status_code="404"} 1');
    expect(metrics.body).toMatch(/http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/t\/:tenant",status_code="200"\}/);
    expect(metrics.body).toContain("process_cpu_user_seconds_total");
    expect(metrics.body).toContain("nodejs_eventloop_lag_seconds");
  });

  it("totals what requests cost: SQL statements run and main-thread busy time, both growing with work", async () => {
    t = await testApp();
    const totals = async () => {
      const body = (await t!.app.inject("/metrics")).body;
      const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(body)?.[1]);
      return { statements: read("tessera_db_statements_total"), busy: read("tessera_main_thread_busy_seconds_total"), cpu: read("tessera_main_thread_cpu_seconds_total") };
    };
    const before = await totals();
    expect(before.statements).toBeGreaterThan(0); // the migrations and the demo tenants' set-up
    for (let i = 0; i < 5; i++) await t.app.inject("/t/national/login");
    const after = await totals();
    expect(after.statements).toBeGreaterThan(before.statements);
    expect(after.busy).toBeGreaterThan(before.busy);
    expect(after.cpu).toBeGreaterThanOrEqual(before.cpu); // ticks of 10 ms: five page views may fit in one
    expect(before.cpu).toBeGreaterThan(0);
  });
});

describe("tenant home pages", () => {
  it.each([
    ["national", "it", "Tessera ID · La tua identità digitale SPID", "Il tuo nome utente è il tuo indirizzo e-mail."],
    ["university", "it", "Università Tessera · Servizi Online", "codice persona"],
    ["pro", "es", "Tessera Pro · Profesionales en la nube", "Aquí te identificas con tu DNI o NIE."],
  ])("serves %s in its default language %s", async (tenant, lang, title, note) => {
    t = await testApp();
    const res = await t.app.inject({ url: `/t/${tenant}/`, headers: HTML });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toContain(`<html lang="${lang}">`);
    expect(res.body).toMatch(new RegExp(`<title>${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(res.body).toContain(note);
    expect(res.body).toContain(`<link rel="stylesheet" href="/t/${tenant}/theme.css">`);
  });

  it("switches language with ?lang=, remembers it in a cookie, and follows Accept-Language", async () => {
    t = await testApp();
    const switched = await t.app.inject({ url: "/t/national/?lang=en", headers: HTML });
    expect(switched.body).toContain('<html lang="en">');
    expect(switched.body).toContain("Your user ID here is your e-mail address.");
    const cookie = switched.cookies.find((c) => c.name === "lang");
    expect(cookie).toMatchObject({ value: "en", path: "/", sameSite: "Lax", httpOnly: true });

    const remembered = await t.app.inject({ url: "/t/national/", headers: { ...HTML, cookie: "lang=en" } });
    expect(remembered.body).toContain('<html lang="en">');
    const negotiated = await t.app.inject({ url: "/t/national/", headers: { ...HTML, "accept-language": "en-GB,en;q=0.9" } });
    expect(negotiated.body).toContain('<html lang="en">');
    expect(negotiated.cookies).toEqual([]);
  });

  it("does not offer a language the tenant lacks", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "/t/pro/?lang=it", headers: HTML });
    expect(res.body).toContain('<html lang="es">');
    expect(res.cookies).toEqual([]);
    expect(res.body).toContain('href="/t/pro/?lang=en"');
    expect(res.body).not.toContain("lang=it");
  });

  it("marks the current language and links the others", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "/t/national/", headers: HTML });
    expect(res.body).toContain('<span aria-current="true" lang="it">Italiano</span>');
    expect(res.body).toContain('<a href="/t/national/?lang=en" hreflang="en" lang="en">English</a>');
    expect(res.body).toContain('<a class="skip-link" href="#main">Vai al contenuto</a>');
  });

  it("serves the tenant's colours with a readable text colour", async () => {
    t = await testApp();
    const css = await t.app.inject("/t/national/theme.css");
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.body).toBe(":root{--brand:#0b5cad;--brand-contrast:#ffffff}\n");
  });

  it("serves the stylesheet with an ETag", async () => {
    t = await testApp();
    const css = await t.app.inject("/assets/tessera.css");
    expect(css.statusCode).toBe(200);
    expect(css.body).toContain("--brand");
    const again = await t.app.inject({ url: "/assets/tessera.css", headers: { "if-none-match": css.headers.etag } });
    expect(again.statusCode).toBe(304);
  });

  it("lists the tenants on the server's own page", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "/", headers: { ...HTML, "accept-language": "es" } });
    expect(res.body).toContain('<html lang="es">');
    for (const id of ["national", "university", "pro"]) expect(res.body).toContain(`href="/t/${id}/"`);
  });
});

describe("security headers", () => {
  it("sends a strict CSP and never uses inline scripts or styles", async () => {
    t = await testApp();
    for (const url of ["/", "/t/national/", "/t/pro/?lang=en", "/t/nope/"]) {
      const res = await t.app.inject({ url, headers: HTML });
      const csp = res.headers["content-security-policy"];
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)/i);
      expect(res.body).not.toMatch(/<style|\sstyle=/i);
      expect(res.body).not.toMatch(/\son[a-z]+=/i);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["referrer-policy"]).toBe("same-origin");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("adds HSTS and upgrade-insecure-requests only for an https base URL", async () => {
    t = await testApp();
    const plain = await t.app.inject("/t/national/");
    expect(plain.headers["strict-transport-security"]).toBeUndefined();
    expect(plain.headers["content-security-policy"]).not.toContain("upgrade-insecure-requests");
    await t.app.close();
    t = await testApp({ publicUrl: { current: "https://id.example.org" } });
    const secure = await t.app.inject("/t/national/");
    expect(secure.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    expect(secure.headers["content-security-policy"]).toContain("upgrade-insecure-requests");
  });

  it("gives every request its own id and ignores one sent by the client", async () => {
    t = await testApp();
    const a = await t.app.inject({ url: "/healthz", headers: { "x-request-id": "chosen-by-client" } });
    const b = await t.app.inject("/healthz");
    expect(a.headers["x-request-id"]).not.toBe("chosen-by-client");
    expect(a.headers["x-request-id"]).not.toBe(b.headers["x-request-id"]);
  });
});

describe("errors", () => {
  it("answers an unknown tenant with a 404 page for browsers, in their language", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "/t/nowhere/", headers: { ...HTML, "accept-language": "it" } });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toContain('<html lang="it">');
    expect(res.body).toContain("Qui non esiste un servizio di identità chiamato «nowhere».");
    expect(res.body).toContain(`Riferimento: ${String(res.headers["x-request-id"])}`);
  });

  it("answers API clients with JSON error and error_description", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "/t/nowhere/" });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.json()).toEqual({ error: "not_found", error_description: "There is no identity service called “nowhere” here." });

    const api = await t.app.inject({ url: "/t/national/api/nothing", headers: HTML });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: "not_found", error_description: "La pagina richiesta non esiste." });
  });

  it("answers an unknown page of a tenant in the tenant's language and look", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "/t/pro/nothing/here", headers: HTML });
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('<html lang="es">');
    expect(res.body).toContain("La página solicitada no existe.");
    expect(res.body).toContain('<link rel="stylesheet" href="/t/pro/theme.css">');
    const unknownTenant = await t.app.inject({ url: "/t/nowhere/nothing", headers: HTML });
    expect(unknownTenant.body).toContain("There is no identity service called “nowhere” here.");
  });

  it("escapes what the client sent when it shows it back", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "/t/%3Cscript%3Ex/", headers: HTML });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain("<script>");
  });

  it("keeps language links on this site for paths starting with //", async () => {
    t = await testApp();
    const res = await t.app.inject({ url: "//evil.example/", headers: HTML });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('href="//evil.example');
  });

  it("hides internal errors from clients and logs them with the request id", async () => {
    t = await testApp();
    t.app.get("/boom", async () => {
      throw new Error("database password is hunter2");
    });
    const res = await t.app.inject("/boom");
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: "server_error", error_description: "An unexpected error occurred. Please try again later." });
    const logged = t.logs.map((l) => JSON.parse(l) as { level: number; reqId?: string; err?: { message: string } });
    const entry = logged.find((l) => l.level === 50);
    expect(entry?.reqId).toBe(res.headers["x-request-id"]);
    expect(entry?.err?.message).toBe("database password is hunter2");
  });
});

describe("logs", () => {
  it("never contain cookies, authorization headers or secret query parameters", async () => {
    t = await testApp();
    await t.app.inject({
      url: "/t/national/?code=SECRET-CODE-1&lang=en&token=SECRET-TOKEN-2",
      headers: { cookie: "session=SECRET-COOKIE-3", authorization: "Bearer SECRET-BEARER-4" },
    });
    const text = t.logs.join("");
    expect(text).toContain("/t/national/?code=[redacted]&lang=en&token=[redacted]");
    for (const secret of ["SECRET-CODE-1", "SECRET-TOKEN-2", "SECRET-COOKIE-3", "SECRET-BEARER-4"]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("rate limiting", () => {
  it("answers 429 with Retry-After past the limit, in the client's language, and spares health checks", async () => {
    t = await testApp({ rateLimit: { max: 3, windowSeconds: 60 } });
    for (let i = 0; i < 3; i++) expect((await t.app.inject("/t/national/")).statusCode).toBe(200);
    const limited = await t.app.inject("/t/national/");
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBeDefined();
    expect(limited.json()).toEqual({ error: "too_many_requests", error_description: "Too many requests. Try again in 60 seconds." });
    const page = await t.app.inject({ url: "/t/national/", headers: { ...HTML, "accept-language": "it" } });
    expect(page.statusCode).toBe(429);
    expect(page.body).toContain("Troppe richieste. Riprova tra 60 secondi.");
    expect((await t.app.inject("/healthz")).statusCode).toBe(200);
    expect((await t.app.inject("/readyz")).statusCode).toBe(200);
  });
});

const redisUrl = process.env.TESSERA_TEST_REDIS?.startsWith("redis")
  ? process.env.TESSERA_TEST_REDIS
  : "redis://127.0.0.1:6379";
const redisEnabled = Boolean(process.env.CI || process.env.TESSERA_TEST_REDIS);

describe.skipIf(!redisEnabled)("rate limiting with Redis", () => {
  it("shares one client's count between two nodes", async () => {
    const redis = new Redis(redisUrl);
    const options = { trustProxy: 1, rateLimit: { max: 3, windowSeconds: 60, shared: { redis, run: redisOrFallback(redis, () => {}) } } };
    const a = await testApp(options);
    const b = await testApp(options);
    t = a;
    try {
      // A client address of its own, so that other runs sharing this Redis do not interfere.
      const client = { "x-forwarded-for": `10.${randomBytes(3).join(".")}` };
      expect((await a.app.inject({ url: "/t/national/", headers: client })).statusCode).toBe(200);
      expect((await b.app.inject({ url: "/t/national/", headers: client })).statusCode).toBe(200);
      expect((await a.app.inject({ url: "/t/national/", headers: client })).statusCode).toBe(200);
      expect((await b.app.inject({ url: "/t/national/", headers: client })).statusCode).toBe(429);
      const other = { "x-forwarded-for": `10.${randomBytes(3).join(".")}` };
      expect((await b.app.inject({ url: "/t/national/", headers: other })).statusCode).toBe(200);
    } finally {
      await b.app.close();
      await b.store.close();
      await redis.quit();
    }
  });
});

describe("rate limiting while Redis is down", () => {
  it("counts on each node instead, says so once, and still answers 429 with Retry-After", async () => {
    // Nothing listens on port 1: the client never connects.
    const redis = connectRedis("redis://127.0.0.1:1", () => {});
    const events: FallbackEvent[] = [];
    t = await testApp({ trustProxy: 1, rateLimit: { max: 3, windowSeconds: 60, shared: { redis, run: redisOrFallback(redis, (e) => events.push(e)) } } });
    try {
      const client = { "x-forwarded-for": "10.9.8.7" };
      const started = performance.now();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await t.app.inject({ url: "/t/national/", headers: client }));
      expect(statuses.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
      expect(Number(statuses[3]!.headers["retry-after"])).toBeGreaterThan(0);
      // Not held up by reconnection attempts (each would wait seconds).
      expect(performance.now() - started).toBeLessThan(1500);
      expect(events).toEqual([{ kind: "fell_back", error: expect.stringMatching(/redis connection/) }]);
    } finally {
      redis.disconnect();
    }
  });
});
