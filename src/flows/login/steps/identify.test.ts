import { describe, expect, it } from "vitest";
import { setPassword } from "../../../identity/password/service.ts";
import { databaseAttemptStore } from "../../../store/attempts.ts";
import { identityFixture } from "../../../../test/helpers/identity.ts";
import type { Flow, StepContext } from "../../flow.ts";
import type { LoginData } from "../data.ts";
import { identify } from "./identify.ts";

const PASSWORD = "Quercia-Verde-2026!";

/**
 * The password is checked before the step's transaction (argon2id must not hold the database);
 * under the transaction the step must still refuse what changed meanwhile.
 */
describe("login identify step: the password checked outside the transaction", () => {
  async function setup() {
    const f = await identityFixture("sqlite");
    const account = await f.account();
    await setPassword(f.deps, f.tenant, account, PASSWORD, { actor: "test" });
    const step = identify(databaseAttemptStore(f.store.repos), f.clock.now);
    const flow: Flow<LoginData> = { id: "flow", tenantId: f.tenant.id, kind: "login", channel: "browser", state: "active", step: "identify", data: { level: 1 }, csrfToken: "csrf", accountId: null, createdAt: 0, updatedAt: 0, expiresAt: Number.MAX_SAFE_INTEGER };
    const ctx = (deps = f.deps): StepContext<LoginData> => ({ deps, tenant: f.tenant, flow, by: { actor: "test" }, locale: "en", tenantUrl: "http://localhost/t/national", userAgent: null });
    const handleInTransaction = (input: { identifier: string; password: string }, checked: Awaited<ReturnType<NonNullable<typeof step.prepare>>>) =>
      f.store.transaction((repos) => step.handle(ctx({ ...f.deps, repos }), input, checked));
    return { f, account, step, ctx, handleInTransaction };
  }

  it("checks the password before, and refuses under the lock a password changed in between", async () => {
    const { f, account, step, ctx, handleInTransaction } = await setup();
    const input = { identifier: account.identifier, password: PASSWORD };
    const checked = await step.prepare!(ctx(), input);
    expect(checked).toMatchObject({ accountId: account.id, verdict: { ok: true } });

    await setPassword(f.deps, f.tenant, account, "Betulla-Bianca-2027!", { actor: "test" });
    const outcome = await handleInTransaction(input, checked);
    expect(outcome).toMatchObject({ type: "reject", errors: [{ field: "password", code: "invalid_credentials" }] });
    expect(await f.store.repos.sessions.byAccount(account.id)).toEqual([]);
  });

  it("refuses a wrong password and an unknown identifier alike, after the same work", async () => {
    const { account, step, ctx, handleInTransaction } = await setup();
    for (const input of [{ identifier: account.identifier, password: "Wrong-Password-2026!" }, { identifier: "nobody@example.it", password: PASSWORD }]) {
      const checked = await step.prepare!(ctx(), input);
      expect(checked.verdict).toEqual({ ok: false });
      expect(await handleInTransaction(input, checked)).toMatchObject({ type: "reject", errors: [{ field: "password", code: "invalid_credentials" }] });
    }
  });

  it("signs in under the lock with the password as checked", async () => {
    const { account, step, ctx, handleInTransaction } = await setup();
    const input = { identifier: account.identifier, password: PASSWORD };
    const outcome = await handleInTransaction(input, await step.prepare!(ctx(), input));
    expect(outcome).toMatchObject({ type: "finish" });
  });
});
