import { recordAuditBy } from "../audit/service.ts";
import { newId } from "../shared/ids.ts";
import { TesseraError, ValidationError } from "../shared/errors.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import type { AccountRow, AccountUpdate, NewAccountRow } from "../store/repos/accounts.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { normalizeEmail, normalizeIdentifier, normalizePhone } from "./identifiers.ts";
import type { PersonalData } from "./password/rules.ts";

/**
 * An account's life: `unconfirmed` (e-mail not yet confirmed) → `enrolling` (request not yet
 * submitted) → `awaiting_proofing` (identity not yet verified) → `active`; an active identity can
 * be `suspended` (and reactivated) or `revoked` (for good). Shop accounts (`customer`) are
 * `active` from the start. A professional (seed 002), identified by a card or at a desk and
 * authorised by an organisation, is `activating` until the six steps of the activation are done.
 */
export const ACCOUNT_STATES = ["unconfirmed", "enrolling", "awaiting_proofing", "activating", "active", "suspended", "revoked"] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/**
 * Why an account may not use services now, as the code of the message to show (null: it may).
 * An account awaiting proofing may still sign in to follow its request.
 */
export function stateBlock(
  state: AccountState,
): `account.${Exclude<AccountState, "active">}` | null {
  return state === "active" ? null : (`account.${state}` as const);
}

export type AccountKind = "identity" | "customer";

/** Personal data as collected by an identity request (the SPID attributes). */
export interface PersonalAttributes {
  givenName: string | null;
  familyName: string | null;
  sex: "M" | "F" | null;
  birthDate: string | null;
  /** Belfiore code of the municipality or (Z…) foreign country of birth. */
  birthPlace: string | null;
  /** Province of birth (two letters), EE for a foreign country. */
  countyOfBirth: string | null;
  fiscalCode: string | null;
  address: string | null;
  postalCode: string | null;
  city: string | null;
  province: string | null;
  /** Certified e-mail (PEC), SPID `digitalAddress`. */
  digitalAddress: string | null;
  documentType: string | null;
  documentNumber: string | null;
  documentIssuer: string | null;
  documentIssueDate: string | null;
  documentExpiryDate: string | null;
  healthCardNumber: string | null;
  healthCardExpiry: string | null;
}

export interface Account extends PersonalAttributes {
  id: string;
  tenantId: string;
  kind: AccountKind;
  identifier: string;
  state: AccountState;
  /** The account whose password this one uses, if not its own (an identity linked to a shop account). */
  credentialAccountId: string | null;
  locale: Locale | null;
  email: string | null;
  emailVerifiedAt: number | null;
  phone: string | null;
  phoneVerifiedAt: number | null;
  identificationMethod: string | null;
  registrationPoint: string | null;
  spidCode: string | null;
  /** The holder wants an e-mail at every sign-in. */
  notifyOnLogin: boolean;
  /** ISO 3166-1 alpha-2 citizenship where it matters (seed 001's 2FA choices); null while unknown. */
  citizenship: string | null;
  /** When an upstream identity provider asserted the codice fiscale; null: as the holder typed it. */
  fiscalCodeVerifiedAt: number | null;
  /** Where one-time codes go at sign-in, sent at once (seed 002: "según lo tenga configurado"); null: the holder asks. */
  preferredFactor: "sms" | "email" | null;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
}

export function accountFromRow(row: AccountRow): Account {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind as AccountKind,
    identifier: row.identifier,
    state: row.state as AccountState,
    credentialAccountId: row.credential_account_id,
    locale: row.locale as Locale | null,
    email: row.email,
    emailVerifiedAt: row.email_verified_at,
    phone: row.phone,
    phoneVerifiedAt: row.phone_verified_at,
    givenName: row.given_name,
    familyName: row.family_name,
    sex: row.sex as "M" | "F" | null,
    birthDate: row.birth_date,
    birthPlace: row.birth_place,
    countyOfBirth: row.county_of_birth,
    fiscalCode: row.fiscal_code,
    address: row.address,
    postalCode: row.postal_code,
    city: row.city,
    province: row.province,
    digitalAddress: row.digital_address,
    documentType: row.document_type,
    documentNumber: row.document_number,
    documentIssuer: row.document_issuer,
    documentIssueDate: row.document_issue_date,
    documentExpiryDate: row.document_expiry_date,
    healthCardNumber: row.health_card_number,
    healthCardExpiry: row.health_card_expiry,
    identificationMethod: row.identification_method,
    registrationPoint: row.registration_point,
    spidCode: row.spid_code,
    notifyOnLogin: row.notify_on_login === 1,
    citizenship: row.citizenship,
    fiscalCodeVerifiedAt: row.fiscal_code_verified_at,
    preferredFactor: row.preferred_factor === "sms" || row.preferred_factor === "email" ? row.preferred_factor : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
  };
}

/** The columns of personal data, by attribute. */
export function personalColumns(p: Partial<PersonalAttributes>): AccountUpdate {
  const columns: AccountUpdate = {};
  const map: [keyof PersonalAttributes, keyof AccountUpdate][] = [
    ["givenName", "given_name"],
    ["familyName", "family_name"],
    ["sex", "sex"],
    ["birthDate", "birth_date"],
    ["birthPlace", "birth_place"],
    ["countyOfBirth", "county_of_birth"],
    ["fiscalCode", "fiscal_code"],
    ["address", "address"],
    ["postalCode", "postal_code"],
    ["city", "city"],
    ["province", "province"],
    ["digitalAddress", "digital_address"],
    ["documentType", "document_type"],
    ["documentNumber", "document_number"],
    ["documentIssuer", "document_issuer"],
    ["documentIssueDate", "document_issue_date"],
    ["documentExpiryDate", "document_expiry_date"],
    ["healthCardNumber", "health_card_number"],
    ["healthCardExpiry", "health_card_expiry"],
  ];
  for (const [attribute, column] of map) {
    if (p[attribute] !== undefined) (columns as Record<string, unknown>)[column] = p[attribute];
  }
  return columns;
}

export interface NewAccount extends Partial<PersonalAttributes> {
  /** As typed by the user; normalised by the tenant's identifier kind. */
  identifier: string;
  kind?: AccountKind;
  state: AccountState;
  credentialAccountId?: string | null;
  locale?: Locale | null;
  email?: string | null;
  emailVerified?: boolean;
  phone?: string | null;
  phoneVerified?: boolean;
  identificationMethod?: string | null;
  registrationPoint?: string | null;
  spidCode?: string | null;
  citizenship?: string | null;
  /** The codice fiscale was asserted by an upstream identity provider, not typed. */
  fiscalCodeVerified?: boolean;
}

export async function createAccount(deps: IdentityDeps, tenant: Tenant, input: NewAccount, by: Actor): Promise<Account> {
  const identifier = normalizeIdentifier(tenant.policy.identifier, input.identifier);
  const email = input.email ? normalizeEmail(input.email) : null;
  const phone = input.phone ? normalizePhone(input.phone) : null;
  const issues = [
    ...(identifier ? [] : [{ field: "identifier", code: `identifier.invalid_${tenant.policy.identifier}`, message: `not a valid ${tenant.policy.identifier}` }]),
    ...(input.email && !email ? [{ field: "email", code: "identifier.invalid_email", message: "not a valid e-mail address" }] : []),
    ...(input.phone && !phone ? [{ field: "phone", code: "phone.invalid", message: "not a mobile number in international format" }] : []),
  ];
  if (issues.length > 0 || !identifier) throw new ValidationError("account.invalid", issues);

  const now = deps.clock.now();
  const row: NewAccountRow = {
    id: newId(),
    tenant_id: tenant.id,
    kind: input.kind ?? "identity",
    identifier,
    state: input.state,
    credential_account_id: input.credentialAccountId ?? null,
    locale: input.locale ?? null,
    email,
    email_verified_at: email && input.emailVerified ? now : null,
    phone,
    phone_verified_at: phone && input.phoneVerified ? now : null,
    identification_method: input.identificationMethod ?? null,
    registration_point: input.registrationPoint ?? null,
    spid_code: input.spidCode ?? null,
    citizenship: input.citizenship ?? null,
    fiscal_code_verified_at: input.fiscalCode && input.fiscalCodeVerified ? now : null,
    ...personalColumns(input),
    created_at: now,
    updated_at: now,
    last_used_at: null,
  };
  if (!(await deps.repos.accounts.insert(row))) {
    throw new TesseraError("account.identifier_taken", `identifier ${identifier} is taken in tenant ${tenant.id}`, {
      status: 409,
    });
  }
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "account.created",
    subject: row.id,
    data: { state: row.state },
  });
  return (await findAccount(deps, tenant, row.id))!;
}

export async function findAccount(deps: IdentityDeps, tenant: Tenant, id: string): Promise<Account | undefined> {
  const row = await deps.repos.accounts.find(tenant.id, id);
  return row && accountFromRow(row);
}

/**
 * Stand-ins that no account has (ids are 22 url-safe characters, identifiers never empty): where
 * there is no account, the same statements run with these, so that unknown identifiers cost what
 * known ones do (docs/identity.md, "Unknown identifiers").
 */
export const NO_ACCOUNT_ID = "-";
export const NO_IDENTIFIER = "";

/**
 * Looks an account up by what the user typed; an identifier that cannot be valid finds nothing,
 * after the same query as any other.
 */
export async function findAccountByIdentifier(
  deps: IdentityDeps,
  tenant: Tenant,
  typed: string,
  kind: AccountKind = "identity",
): Promise<Account | undefined> {
  const identifier = normalizeIdentifier(tenant.policy.identifier, typed);
  const row = await deps.repos.accounts.findByIdentifier(tenant.id, kind, identifier ?? NO_IDENTIFIER);
  return row && identifier ? accountFromRow(row) : undefined;
}

/** The account that holds the password this account signs in with. */
export function credentialOwner(account: Account): string {
  return account.credentialAccountId ?? account.id;
}

export function personalDataOf(account: Account): PersonalData {
  return {
    givenName: account.givenName,
    familyName: account.familyName,
    fiscalCode: account.fiscalCode,
    birthDate: account.birthDate,
    email: account.email,
    documentNumber: account.documentNumber,
  };
}
