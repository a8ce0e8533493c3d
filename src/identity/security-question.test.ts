import { afterEach, describe, expect, it } from "vitest";
import { type IdentityFixture, identityFixture } from "../../test/helpers/identity.ts";
import { dialects } from "../../test/helpers/stores.ts";
import { normalizeAnswer, securityQuestionOf, setSecurityAnswer, verifySecurityAnswer } from "./security-question.ts";

const by = { actor: "test" };

describe("normalizeAnswer", () => {
  it("ignores case, repeated spaces and accents", () => {
    expect(normalizeAnswer("  Città   di  ROMA ")).toBe("citta di roma");
    expect(normalizeAnswer("Fido\tJúnior")).toBe("fido junior");
  });
});

describe.each(dialects)("security question on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  it("stores the answer hashed and checks it however it is typed", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    expect(await setSecurityAnswer(f.deps, f.tenant, account, "first_pet", "Fido Júnior", by)).toEqual({ ok: true });
    expect(await securityQuestionOf(f.deps, account)).toBe("first_pet");
    const stored = await f.store.repos.accounts.securityAnswer(account.id);
    expect(stored!.answer_hash).toMatch(/^\$argon2id\$/);
    expect(await verifySecurityAnswer(f.deps, f.tenant, account, "  fido   junior")).toBe(true);
    expect(await verifySecurityAnswer(f.deps, f.tenant, account, "Fido")).toBe(false);
  });

  it("takes only the tenant's questions and answers of 3 characters or more", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    expect(await setSecurityAnswer(f.deps, f.tenant, account, "favourite_colour", "blue", by)).toMatchObject({
      ok: false,
      field: "question",
      reason: "security_question.unknown",
    });
    expect(await setSecurityAnswer(f.deps, f.tenant, account, "first_pet", "  Ab  ", by)).toMatchObject({
      ok: false,
      field: "answer",
      reason: "security_question.answer_too_short",
      params: { min: 3 },
    });
    expect(await setSecurityAnswer(f.deps, f.tenant, account, "first_pet", "Rex", by)).toEqual({ ok: true });
    expect(await verifySecurityAnswer(f.deps, f.tenant, await f.account(), "Rex")).toBe(false);
  });
});
