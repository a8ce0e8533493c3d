import { afterEach, describe, expect, it } from "vitest";
import { findAccount } from "../../src/identity/accounts.ts";
import { latestCase } from "../../src/flows/proofing/cases.ts";
import { proofByCie } from "../../src/flows/proofing/cie.ts";
import type { ChipData } from "../../src/pki/icao.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { dg1, dg11, documentSigner, type Holder, sod, td1, testCsca } from "../helpers/cie.ts";
import { applicant, GIULIA, sessionCookie } from "../helpers/proofing.ts";
import { updatePolicy } from "../helpers/tenants.ts";

const BY = { actor: "test" };
let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

const GIULIA_CHIP: Holder = { number: "CA12345GB", birth: "900515", sex: "F", expiry: "320301", surname: "BIANCHI", given: "GIULIA" };
const GIULIA_DETAILS = { fullName: "BIANCHI<<GIULIA", personalNumber: "BNCGLI90E55F205D", birthDate: "19900515", placeOfBirth: "MILANO" };

async function setUp() {
  t = await testApp({ clockStart: Date.now() });
  const csca = await testCsca();
  const ds = await documentSigner(csca);
  const tenant = await updatePolicy(t.store, "national", (p) => {
    p.enrolment!.proofing = { ...p.enrolment!.proofing, trust: { csca: { pem: [csca.pem] } } };
  });
  const who = await applicant(t, "cie");
  const chip = async (holder: Partial<Holder> = {}, details: Partial<typeof GIULIA_DETAILS> = {}): Promise<ChipData> => {
    const one = dg1(td1({ ...GIULIA_CHIP, ...holder }));
    const eleven = dg11({ ...GIULIA_DETAILS, ...details });
    return { dg1: one, dg11: eleven, sod: await sod([[1, one], [11, eleven]], ds) };
  };
  const submit = (data: ChipData) => proofByCie(t!.deps, tenant, who.account, data, BY, { accountUrl: "http://localhost/t/national/account" });
  return { tenant, who, csca, ds, chip, submit };
}

const refused = (reason: string) => ({ reason, code: `proofing.reason.${reason}` });

describe("identification by electronic document (CIE, NFC)", () => {
  it("activates the identity when passive authentication succeeds and the chip's data are the applicant's", async () => {
    const { tenant, who, chip, submit } = await setUp();
    expect(await submit(await chip())).toBe("approved");
    const account = (await findAccount(t!.deps, tenant, who.account.id))!;
    expect(account.state).toBe("active");
    expect(account.spidCode).toMatch(/^TESS\d{10}$/);
    const proofing = (await latestCase(t!.deps, tenant, who.account.id))!;
    expect(proofing.data.verified).toMatchObject({ documentNumber: "CA12345GB", expiry: "320301", documentSigner: expect.stringContaining("Document Signer CIE TEST") });
    expect((await t!.store.repos.proofing.evidenceOf("national", proofing.id)).map((e) => e.kind)).toEqual(["chip_dg1", "chip_dg11", "chip_sod"]);
  });

  it("refuses a forged SOD: a changed DG1, a signature by another key than the Document Signer's, a CSCA not on the list", async () => {
    const { who, tenant, csca, ds, chip, submit } = await setUp();
    const good = await chip();
    // DG1 changed after signing (another date of birth): its hash is not the SOD's.
    const changed = dg1(td1({ ...GIULIA_CHIP, birth: "910515" }));
    await expect(submit({ ...good, dg1: changed })).rejects.toMatchObject(refused("chip_invalid"));
    // Signed by a key other than the one the Document Signer's certificate carries.
    const impostor = await documentSigner(csca);
    await expect(submit({ ...good, sod: await sod([[1, good.dg1], [11, good.dg11!]], impostor, ds.certificate) })).rejects.toMatchObject(refused("chip_invalid"));
    // A Document Signer certified by a CSCA the tenant does not trust.
    const unknownDs = await documentSigner(await testCsca("CSCA-SOMEWHERE ELSE"));
    await expect(submit({ ...good, sod: await sod([[1, good.dg1], [11, good.dg11!]], unknownDs) })).rejects.toMatchObject(refused("chip_invalid"));
    // Not even DER.
    await expect(submit({ ...good, sod: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject(refused("chip_invalid"));
    expect((await findAccount(t!.deps, tenant, who.account.id))!.state).toBe("awaiting_proofing");
  });

  it("refuses a genuine document that is not the applicant's, not an Italian identity card, or expired", async () => {
    const { chip, submit } = await setUp();
    await expect(submit(await chip({ surname: "ROSSI" }))).rejects.toMatchObject(refused("data_mismatch"));
    await expect(submit(await chip({}, { personalNumber: "RSSMRA80A01H501U" }))).rejects.toMatchObject(refused("fiscal_code_mismatch"));
    await expect(submit(await chip({ code: "P", state: "FRA" }))).rejects.toMatchObject(refused("wrong_document"));
    await expect(submit(await chip({ expiry: "240101" }))).rejects.toMatchObject(refused("document_invalid"));
    // The right person, with the document declared: accepted after all of the above.
    expect(await submit(await chip())).toBe("approved");
  });

  it("is there only for an applicant who chose it", async () => {
    const { tenant, chip } = await setUp();
    const other = await applicant(t!, "video", { account: { identifier: "altro@example.it", email: "altro@example.it", fiscalCode: "RSSMRA80A01H501U" } });
    await expect(proofByCie(t!.deps, tenant, other.account, await chip(), BY, { accountUrl: "x" })).rejects.toMatchObject({ code: "proofing.no_open_case" });
    expect(GIULIA.fiscalCode).toBe("BNCGLI90E55F205D");
  });
});

describe("the CIE app's API", () => {
  it("takes the chip's data with the session's Bearer token: approved with the spidCode, or 422 with the reason and what to do next", async () => {
    const { chip, tenant, who } = await setUp();
    const account = who.account;
    const token = (await sessionCookie(t!, account, 1)).split("=")[1]!;
    const send = async (data: ChipData) =>
      t!.app.inject({
        method: "POST",
        url: "/t/national/api/proofing/cie",
        headers: { authorization: `Bearer ${token}`, "accept-language": "en" },
        payload: { dg1: Buffer.from(data.dg1).toString("base64"), dg11: Buffer.from(data.dg11!).toString("base64"), sod: Buffer.from(data.sod).toString("base64") },
      });
    const state = await t!.app.inject({ url: "/t/national/api/proofing", headers: { authorization: `Bearer ${token}` } });
    expect(state.json()).toMatchObject({ method: "cie", state: "pending" });

    const refused = await send(await chip({ surname: "ROSSI" }));
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toEqual({
      error: "proofing_refused",
      reason: "data_mismatch",
      error_description: "the data of the document do not match the data you entered.",
      next_steps: "check the data of your request against your document, then try again.",
    });
    const malformed = await t!.app.inject({ method: "POST", url: "/t/national/api/proofing/cie", headers: { authorization: `Bearer ${token}` }, payload: { dg1: "not base64!" } });
    expect(malformed.statusCode).toBe(400);

    const approved = await send(await chip());
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ state: "approved", method: "cie", spid_code: expect.stringMatching(/^TESS\d{10}$/) });
    expect((await latestCase(t!.deps, tenant, account.id))!.state).toBe("approved");
  });
});
