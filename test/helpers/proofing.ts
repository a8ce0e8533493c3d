import { type Account, createAccount, type NewAccount } from "../../src/identity/accounts.ts";
import { setPassword } from "../../src/identity/password/service.ts";
import { openCase, type ProofingCase } from "../../src/flows/proofing/cases.ts";
import type { IdentificationMethod } from "../../src/tenants/policy.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import type { TestApp } from "./app.ts";
import { PASSWORD } from "./flows.ts";

/** An applicant of the national tenant whose request is complete: awaiting proofing, data as declared. */
export const GIULIA: NewAccount & { identifier: string } = {
  identifier: "giulia.bianchi@example.it",
  state: "awaiting_proofing",
  locale: "it",
  email: "giulia.bianchi@example.it",
  emailVerified: true,
  phone: "+393331112222",
  phoneVerified: true,
  givenName: "Giulia",
  familyName: "Bianchi",
  sex: "F",
  birthDate: "1990-05-15",
  birthPlace: "F205",
  countyOfBirth: "MI",
  fiscalCode: "BNCGLI90E55F205D",
  address: "Via Dante 12",
  postalCode: "20121",
  city: "Milano",
  province: "MI",
  documentType: "carta_identita",
  documentNumber: "CA12345GB",
  documentIssuer: "Comune di Milano",
  documentIssueDate: "2022-03-01",
  documentExpiryDate: "2032-03-01",
  healthCardNumber: "80380000001234567890",
  healthCardExpiry: "2030-12-31",
};

/** The applicant with a password and an open case by `method`. */
export async function applicant(
  t: Pick<TestApp, "store" | "deps">,
  method: IdentificationMethod,
  options: { point?: string; account?: Partial<NewAccount> & { identifier?: string } } = {},
): Promise<{ tenant: Tenant; account: Account; proofing: ProofingCase }> {
  const tenant = (await findTenant(t.store.repos, "national"))!;
  const account = await createAccount(t.deps, tenant, { ...GIULIA, ...options.account }, { actor: "test" });
  await setPassword(t.deps, tenant, account, PASSWORD, { actor: "test" });
  const proofing = await openCase(t.deps, tenant, account, { request: `R${account.id.slice(0, 9).toUpperCase()}`, method, point: options.point ?? null }, { actor: "test" });
  return { tenant, account, proofing };
}
