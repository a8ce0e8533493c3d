import { type Account, createAccount, type NewAccount } from "../../src/identity/accounts.ts";
import { grantOperatorRole } from "../../src/identity/operators.ts";
import { addRepresentative, createOrganization, type Organization } from "../../src/identity/organizations.ts";
import { setPassword } from "../../src/identity/password/service.ts";
import { createSession } from "../../src/identity/sessions.ts";
import { initPki } from "../../src/pki/authorities.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import { listeningApp, type TestApp } from "./app.ts";
import { lastMessageTo } from "./enrolment.ts";
import { PASSWORD } from "./flows.ts";
import { EC_ALGORITHMS } from "./pki.ts";
import { updatePolicy } from "./tenants.ts";

const BY = { actor: "test" };

/** The `pro` tenant with its PKI (EC keys: quick to make), its certificates pointing at `base`. */
export async function proTenant(t: Pick<TestApp, "store" | "deps">, base = "http://localhost"): Promise<Tenant> {
  const tenant = await updatePolicy(t.store, "pro", (p) => {
    p.pki = { ...p.pki, algorithms: EC_ALGORITHMS };
  });
  await initPki(t.deps, tenant, `${base}/t/pro`, BY);
  return tenant;
}

/** An active professional of the pro tenant with a password, a verified mobile and e-mail. */
export async function professional(t: Pick<TestApp, "store" | "deps">, input: Partial<NewAccount> & { identifier: string }): Promise<Account> {
  const tenant = (await findTenant(t.store.repos, "pro"))!;
  const account = await createAccount(
    t.deps,
    tenant,
    { state: "active", locale: "en", emailVerified: true, phoneVerified: true, documentType: "dni", documentNumber: input.identifier, documentExpiryDate: "2031-01-31", ...input },
    BY,
  );
  await setPassword(t.deps, tenant, account, PASSWORD, BY);
  return account;
}

/** A session cookie of the pro tenant at `level` (the consoles ask for 2). */
export async function proCookie(t: Pick<TestApp, "store" | "deps">, account: Account, level: 1 | 2 = 2): Promise<string> {
  const tenant = (await findTenant(t.store.repos, "pro"))!;
  const { token } = await createSession(t.deps, tenant, account, { level, amr: level === 2 ? ["pwd", "sms"] : ["pwd"] }, BY);
  return `tessera_session=${token}`;
}

/** An organisation represented by `representatives`. */
export async function organisation(t: Pick<TestApp, "store" | "deps">, name: string, taxId: string, representatives: Account[]): Promise<Organization> {
  const tenant = (await findTenant(t.store.repos, "pro"))!;
  const organization = await createOrganization(t.deps, tenant, { name, taxId }, BY);
  for (const r of representatives) await addRepresentative(t.deps, tenant, organization, r, BY);
  return organization;
}

/** A desk officer at the Bilbao desk, with a session. */
export async function deskOfficer(t: Pick<TestApp, "store" | "deps">): Promise<{ account: Account; cookie: string }> {
  const tenant = (await findTenant(t.store.repos, "pro"))!;
  const account = await professional(t, { identifier: "11111111H", email: "jon.agirre@example.eus", phone: "+34600000002", givenName: "Jon", familyName: "Agirre" });
  await grantOperatorRole(t.deps, tenant, account, { role: "desk_officer", point: "bilbao" }, BY);
  return { account, cookie: await proCookie(t, account) };
}

/** The applicant of the tests: no identity yet; her DNI expires at the end of June 2031. */
export const MIREN = {
  dni: "44556677L",
  given_name: "Miren",
  family_name: "Arana",
  email: "miren.arana@example.eus",
  phone: "+34600000003",
  document_expiry_date: "2031-06-30",
  title: "Técnica de urbanismo",
};

/** The newest activation link e-mailed to `to`. */
export async function activationLinkTo(t: Pick<TestApp, "store" | "deps">, to: string): Promise<string> {
  const text = (await lastMessageTo(t, to, "pro")).text;
  const link = /(https?:\/\/\S+\/t\/pro\/activate\/\S+)/.exec(text)?.[1];
  if (!link) throw new Error(`no activation link in: ${text}`);
  return link;
}

export const ALL_DESK_CHECKS = ["document_original", "document_valid", "photo_matches"];

/** A form body as a browser posts it (a repeated field for an array). */
export const form = (fields: Record<string, string | string[]>) =>
  new URLSearchParams(Object.entries(fields).flatMap(([k, v]): [string, string][] => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString();

/**
 * The pro tenant listening with its PKI, two organisations Ane represents (a city council and a
 * firm), Jon at the Bilbao desk; `post` is a same-origin form post with a cookie, `atDesk` Jon's
 * recording of a request in person, `membershipsOf` the rows of a DNI, oldest first.
 */
export async function proScene() {
  const { t, base } = await listeningApp();
  await proTenant(t, base);
  const ane = await professional(t, { identifier: "12345678Z", email: "ane@example.eus", phone: "+34600000001", givenName: "Ane", familyName: "Etxeberria" });
  const city = await organisation(t, "Ayuntamiento de Ejemplo", "P4800100B", [ane]);
  const firm = await organisation(t, "Ejemplo Ingeniería S.L.", "B48123459", [ane]);
  const jon = await deskOfficer(t);
  const post = (url: string, cookie: string, fields: Record<string, string | string[]>) =>
    t.app.inject({ method: "POST", url, headers: { cookie, origin: base, "content-type": "application/x-www-form-urlencoded", accept: "text/html", "accept-language": "en" }, payload: form(fields) });
  const atDesk = (organization: string, person: Record<string, string> = MIREN) => post("/t/pro/desk/requests", jon.cookie, { ...person, organization, checks: ALL_DESK_CHECKS });
  const membershipsOf = async (dni: string) => await t.store.db.selectFrom("memberships").selectAll().where("dni", "=", dni).orderBy("created_at").execute();
  return { t, base, ane, aneCookie: await proCookie(t, ane), city, firm, jon, post, atDesk, membershipsOf };
}
