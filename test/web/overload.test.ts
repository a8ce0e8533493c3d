import { afterEach, describe, expect, it } from "vitest";
import { type TestApp, testApp } from "../helpers/app.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

/** Holds the event loop, as a node receiving more than it can serve does. */
function hold(ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("load shedding", () => {
  it("answers 503 with Retry-After while the event loop runs late, keeps health, readiness and metrics answering, and recovers", async () => {
    t = await testApp({ overload: { maxEventLoopDelayMs: 20 } });
    expect((await t.app.inject({ url: "/t/national/" })).statusCode).toBe(200);

    // Busy as a node receiving more than it can serve: every turn of the event loop 60 ms long,
    // for longer than a few samples.
    const end = performance.now() + 900;
    while (performance.now() < end) {
      hold(60);
      await new Promise((r) => setImmediate(r));
    }
    const refused = await t.app.inject({ url: "/t/national/api/flows/nope", headers: { accept: "application/json" } });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.json()).toMatchObject({ error: "temporarily_unavailable" });
    expect((await t.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await t.app.inject({ url: "/readyz" })).statusCode).toBe(200);
    const metrics = await t.app.inject({ url: "/metrics" });
    expect(metrics.body).toMatch(/^tessera_requests_shed_total\{reason="event_loop"\} [1-9]/m);
    // Nothing logged as a failure for it.
    expect(t.logs.join("")).not.toContain("request failed");
    expect(t.logs.join("")).toContain("overloaded: refusing new requests");

    // Idle again for a couple of samples: served again.
    await sleep(600);
    expect((await t.app.inject({ url: "/t/national/" })).statusCode).toBe(200);
  });

  it("is off when the limit is 0", async () => {
    t = await testApp({ overload: { maxEventLoopDelayMs: 0 } });
    hold(400);
    await sleep(300);
    expect((await t.app.inject({ url: "/t/national/" })).statusCode).toBe(200);
  });
});
