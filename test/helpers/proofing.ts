import { type Account, createAccount, type NewAccount } from "../../src/identity/accounts.ts";
import { setPassword } from "../../src/identity/password/service.ts";
import { grantOperatorRole, type OperatorRoleGrant } from "../../src/identity/operators.ts";
import { createSession } from "../../src/identity/sessions.ts";
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

/** An active account of the national tenant with staff roles and a session at `level` (the console asks for 2). */
export async function staff(t: Pick<TestApp, "store" | "deps">, identifier: string, grants: OperatorRoleGrant[], level: 1 | 2 = 2): Promise<{ account: Account; cookie: string }> {
  const tenant = (await findTenant(t.store.repos, "national"))!;
  const account = await createAccount(t.deps, tenant, { identifier, state: "active", email: identifier, emailVerified: true, givenName: "Operatore", familyName: identifier.split("@")[0]! }, { actor: "test" });
  for (const grant of grants) await grantOperatorRole(t.deps, tenant, account, grant, { actor: "test" });
  return { account, cookie: await sessionCookie(t, account, level) };
}

export async function sessionCookie(t: Pick<TestApp, "store" | "deps">, account: Account, level: 1 | 2): Promise<string> {
  const tenant = (await findTenant(t.store.repos, "national"))!;
  const { token } = await createSession(t.deps, tenant, account, { level, amr: level === 2 ? ["pwd", "sms"] : ["pwd"] }, { actor: "test" });
  return `tessera_session=${token}`;
}

/** A multipart/form-data body, as a browser sends a form with files. */
export function multipart(fields: Record<string, string | string[]>, files: Record<string, { name: string; type: string; content: Uint8Array }> = {}): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----tessera${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${v}\r\n`));
  }
  for (const [name, file] of Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"; filename="${file.name}"\r\ncontent-type: ${file.type}\r\n\r\n`), Buffer.from(file.content), Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

/** The smallest PNG and JPEG files (their signatures, then a byte of content): what a document photo is told by. */
export const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("front of the card")]);
export const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("back of the card")]);
