import type { NewAccount } from "../identity/accounts.ts";

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
}

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
      spidCode: "TESS0000000001",
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
    },
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
];
