import type { NewAccount } from "../identity/accounts.ts";
import type { OperatorRoleGrant } from "../identity/operators.ts";

/**
 * Demo identities, one of each kind the demo tenants have (README, "Demo identities"). Demo only:
 * their passwords are public.
 */
export interface DemoIdentity {
  tenant: string;
  account: NewAccount;
  password: string;
  /** Written as a hash without the policy check: shop accounts predate the identity rules. */
  legacyPassword?: boolean;
  /** Staff roles (identity proofing). */
  operator?: OperatorRoleGrant[];
}

/** Demo staff of the national tenant: a mobile each, for their level-2 sign-in (codes in the dev outbox). */
const staff = (identifier: string, givenName: string, familyName: string, phone: string, operator: OperatorRoleGrant[]): DemoIdentity => ({
  tenant: "national",
  password: DEMO_PASSWORD,
  account: { identifier, state: "active", locale: "it", email: identifier, emailVerified: true, phone, phoneVerified: true, givenName, familyName },
  operator,
});

export const DEMO_PASSWORD = "Tessera-Demo-2026!";

export const demoIdentities: DemoIdentity[] = [
  {
    tenant: "national",
    password: DEMO_PASSWORD,
    account: {
      identifier: "mario.rossi@example.it",
      state: "active",
      locale: "it",
      email: "mario.rossi@example.it",
      emailVerified: true,
      phone: "+393331234567",
      phoneVerified: true,
      givenName: "Mario",
      familyName: "Rossi",
      sex: "M",
      birthDate: "1980-01-01",
      birthPlace: "H501",
      countyOfBirth: "RM",
      fiscalCode: "RSSMRA80A01H501U",
      address: "Via del Corso 1",
      postalCode: "00186",
      city: "Roma",
      province: "RM",
      digitalAddress: "mario.rossi@pec.example.it",
      documentType: "carta_identita",
      documentNumber: "CA00000AA",
      documentIssuer: "Comune di Roma",
      documentIssueDate: "2020-01-15",
      documentExpiryDate: "2031-01-15",
      healthCardNumber: "80380000000000000001",
      healthCardExpiry: "2030-12-31",
      identificationMethod: "in_person",
      registrationPoint: "roma-corso",
    },
  },
  {
    tenant: "national",
    password: "cliente123",
    legacyPassword: true,
    account: { identifier: "cliente@example.it", kind: "customer", state: "active", locale: "it", email: "cliente@example.it", emailVerified: true },
  },
  {
    tenant: "pro",
    password: DEMO_PASSWORD,
    account: {
      identifier: "12345678Z",
      state: "active",
      locale: "es",
      email: "ane.etxeberria@example.eus",
      emailVerified: true,
      phone: "+34600000001",
      phoneVerified: true,
      givenName: "Ane",
      familyName: "Etxeberria",
      documentType: "dni",
      documentNumber: "12345678Z",
      documentExpiryDate: "2030-09-15",
    },
  },
  {
    tenant: "pro",
    password: DEMO_PASSWORD,
    account: { identifier: "11111111H", state: "active", locale: "es", email: "jon.agirre@example.eus", emailVerified: true, phone: "+34600000002", phoneVerified: true, givenName: "Jon", familyName: "Agirre" },
    operator: [{ role: "desk_officer", point: "bilbao" }],
  },
  {
    tenant: "university",
    password: DEMO_PASSWORD,
    account: {
      identifier: "10000001",
      state: "active",
      locale: "it",
      email: "chiara.colombo@studenti.example.it",
      emailVerified: true,
      givenName: "Chiara",
      familyName: "Colombo",
    },
  },
  staff("sportello.roma@example.it", "Laura", "Bianchi", "+393330000101", [{ role: "registration_officer", point: "roma-corso" }]),
  staff("sportello.milano@example.it", "Marco", "Neri", "+393330000102", [{ role: "registration_officer", point: "milano-duomo" }]),
  staff("video@example.it", "Paola", "Verdi", "+393330000103", [{ role: "video_operator", point: null }]),
  staff("supervisore@example.it", "Giulia", "Russo", "+393330000104", [{ role: "supervisor", point: null }]),
];
