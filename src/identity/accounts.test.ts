import { afterEach, describe, expect, it } from "vitest";
import { type IdentityFixture, identityFixture } from "../../test/helpers/identity.ts";
import { dialects } from "../../test/helpers/stores.ts";
import { translator } from "../shared/i18n/translate.ts";
import { demoTenants } from "../tenants/demo.ts";
import { ACCOUNT_STATES, createAccount, findAccountByIdentifier, stateBlock } from "./accounts.ts";

const by = { actor: "test" };

describe("account states", () => {
  it("give each blocked state its own message, in every language", () => {
    expect(stateBlock("active")).toBeNull();
    const blocked = ACCOUNT_STATES.filter((s) => s !== "active").map(stateBlock);
    expect(new Set(blocked).size).toBe(ACCOUNT_STATES.length - 1);
    for (const locale of ["it", "en", "es"] as const) {
      const texts = blocked.map((code) => translator(locale)(code!));
      expect(new Set(texts).size).toBe(ACCOUNT_STATES.length - 1);
    }
    expect(translator("it")("account.suspended")).toBe("Questa identità è sospesa. Contatta l'assistenza per riattivarla.");
  });
});

describe.each(dialects)("accounts on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  it("normalise identifiers by the tenant's kind, and keep them unique", async () => {
    f = await identityFixture(dialect, { ...demoTenants.find((t) => t.id === "pro")!, id: "pro" });
    const account = await createAccount(f.deps, f.tenant, { identifier: "12.345.678-z", state: "active", phone: "+34 600 000 001" }, by);
    expect(account).toMatchObject({ identifier: "12345678Z", phone: "+34600000001", phoneVerifiedAt: null });
    expect((await findAccountByIdentifier(f.deps, f.tenant, "12345678z"))?.id).toBe(account.id);
    expect(await findAccountByIdentifier(f.deps, f.tenant, "12345678A")).toBeUndefined();
    await expect(createAccount(f.deps, f.tenant, { identifier: "12345678Z", state: "active" }, by)).rejects.toMatchObject({
      code: "account.identifier_taken",
      status: 409,
    });
    await expect(createAccount(f.deps, f.tenant, { identifier: "12345678A", state: "active", phone: "600" }, by)).rejects.toMatchObject({
      code: "account.invalid",
      issues: [
        { field: "identifier", code: "identifier.invalid_dni" },
        { field: "phone", code: "phone.invalid" },
      ],
    });
    const audit = (await f.store.repos.audit.page("pro", 0, 10)).map((e) => e.type);
    expect(audit.filter((t) => t === "account.created")).toHaveLength(1);
  });
});
