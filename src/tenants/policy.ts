import { z } from "zod";
import { KeyAlgorithm } from "../pki/algorithms.ts";
import { KeystoreConfig } from "../pki/keystore.ts";
import { LOCALES } from "../shared/i18n/locales.ts";

const Locale = z.enum(LOCALES);
/** Text in several languages; a missing language falls back to the tenant's default one. */
export const LocalizedText = z.partialRecord(Locale, z.string().min(1).max(1000));
export type LocalizedText = z.infer<typeof LocalizedText>;

/** A text in `locale`, else in `fallback`, else in any language it has. */
export function localized(text: LocalizedText, locale: z.infer<typeof Locale>, fallback: z.infer<typeof Locale>): string | undefined {
  return text[locale] ?? text[fallback] ?? Object.values(text)[0];
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * Password rules. Defaults follow NIST SP 800-63B (length and a denylist, no composition rules, no
 * periodic expiry); the `national` tenant tightens them to the SPID rules.
 */
export const PasswordPolicy = z
  .object({
    minLength: int(6, 64).default(10),
    maxLength: int(16, 256).default(128),
    requireUppercase: z.boolean().default(false),
    requireLowercase: z.boolean().default(false),
    requireDigit: z.boolean().default(false),
    requireSpecial: z.boolean().default(false),
    /** Longest run of one repeated character allowed ("aa" passes with 2, "aaa" does not). */
    maxRepeat: int(1, 64).nullable().default(null),
    /** Refuse passwords containing the holder's name, surname, codice fiscale, birth date, e-mail local part or document number. */
    forbidPersonalData: z.boolean().default(true),
    /** Refuse the bundled list of common passwords. */
    denyCommon: z.boolean().default(true),
    /** Refuse the last `count` passwords and any set within the last `months`. */
    history: z.object({ count: int(0, 24).default(0), months: int(0, 60).default(0) }).strict().default({ count: 0, months: 0 }),
    /** Days a password is valid; null: no expiry. */
    maxAgeDays: int(1, 3650).nullable().default(null),
    /** Days before expiry on which a reminder e-mail goes out. */
    reminderDays: z.array(int(1, 365)).default([15, 7, 1]),
    /** argon2id cost (OWASP minimum: 19 MiB, 2 passes, 1 lane). Raising it rehashes at next login. */
    hashing: z
      .object({ memoryKiB: int(8192, 1_048_576).default(19_456), iterations: int(1, 20).default(2), parallelism: int(1, 16).default(1) })
      .strict()
      .default({ memoryKiB: 19_456, iterations: 2, parallelism: 1 }),
  })
  .strict();
export type PasswordPolicy = z.infer<typeof PasswordPolicy>;

/** One-time codes sent by SMS or e-mail. */
export const OtpPolicy = z
  .object({
    length: int(4, 10).default(6),
    ttlSeconds: int(30, 3600).default(300),
    maxAttempts: int(1, 20).default(5),
    /** Minimum time between two sends for the same purpose. */
    resendSeconds: int(0, 3600).default(60),
    /** Sends for one purpose in any hour. */
    maxPerHour: int(1, 100).default(5),
    /** Sends to one address or number in any hour, whatever the purpose (against SMS pumping). */
    maxPerDestinationPerHour: int(1, 1000).default(10),
  })
  .strict();
export type OtpPolicy = z.infer<typeof OtpPolicy>;

export const SessionPolicy = z
  .object({
    idleMinutes: int(1, 24 * 60).default(30),
    absoluteHours: int(1, 24 * 30).default(12),
    /** Changes in the self-service panel need a sign-in at most this old; older asks to sign in again. */
    reauthMinutes: int(1, 24 * 60).default(15),
  })
  .strict();
export type SessionPolicy = z.infer<typeof SessionPolicy>;

/** Brute-force protection (SPID ErrorCode nr19 when it bites). */
export const LockoutPolicy = z
  .object({
    /** Consecutive failures that lock an account. */
    maxFailures: int(1, 100).default(5),
    lockMinutes: int(1, 24 * 60).default(15),
    /** After the n-th failure the next attempt waits base × 2^(n-1) seconds. 0 disables delays. */
    delayBaseSeconds: int(0, 60).default(1),
    /** Failed attempts one client address may make per window (successes never count). */
    ipMaxFailures: int(1, 100_000).default(100),
    ipWindowMinutes: int(1, 24 * 60).default(15),
    /**
     * Checks whose answer shows whether an identifier is taken (the e-mail chosen as user ID at
     * enrolment, a codice fiscale, a new e-mail address in the panel) that one flow may make.
     */
    identifierChecksPerFlow: int(1, 100).default(5),
    /** The same checks one client address may make per `ipWindowMinutes`. */
    identifierChecksPerIp: int(1, 100_000).default(30),
  })
  .strict();
export type LockoutPolicy = z.infer<typeof LockoutPolicy>;

/**
 * `upstream`: a step-up at an upstream SPID/CIE identity provider, at level 2, for the account's
 * own codice fiscale ("Attiva 2FA con SPID/CIE", seed 001; broker tenants).
 */
export const SECOND_FACTORS = ["sms", "email", "totp", "passkey", "recovery_code", "upstream"] as const;
export type SecondFactor = (typeof SECOND_FACTORS)[number];

export const FactorPolicy = z
  .object({
    /** Second factors offered for level 2, in the order shown. */
    secondFactors: z.array(z.enum(SECOND_FACTORS)).default(["totp", "passkey", "recovery_code"]),
    /** Whether a passkey with user verification alone signs a user in (at level 2). */
    passkeyFirstFactor: z.boolean().default(false),
    /** Issuer name shown in authenticator apps; the tenant's display name when absent. */
    totpIssuer: z.string().min(1).max(64).optional(),
    /** What to do when every second factor is lost (shown at sign-in), besides recovery codes. */
    lostFactorProcedure: LocalizedText.default({}),
    /** Whether every account must keep a second factor (its last one cannot be removed). */
    required: z.boolean().default(false),
  })
  .strict();

/**
 * How a forgotten password is reset: the security question and an SMS code to the verified mobile
 * (SPID, seed 000), or a link by e-mail followed by a code by SMS (or e-mail, without a mobile).
 */
export const RecoveryPolicy = z
  .object({
    method: z.enum(["question_and_sms", "email_link_and_code"]).default("email_link_and_code"),
    linkMinutes: int(5, 24 * 60).default(30),
  })
  .strict();

/** Identities left unused are revoked (SPID: 24 months), after warnings. */
export const InactivityPolicy = z
  .object({
    revokeAfterMonths: int(1, 240).nullable().default(null),
    warnDays: z.array(int(1, 365)).default([90, 30, 10, 1]),
  })
  .strict();
export type FactorPolicy = z.infer<typeof FactorPolicy>;

/** The five ways of identity proofing of seed 000. */
export const IDENTIFICATION_METHODS = ["signature", "cns", "in_person", "video", "cie"] as const;
export type IdentificationMethod = (typeof IDENTIFICATION_METHODS)[number];

/**
 * Certificates trusted for one purpose, as PEM (public, so fit for the policy), and optionally the
 * tenant's own root (its PKI issues the certificates the demo's citizens sign with).
 */
export const TrustList = z
  .object({
    pem: z.array(z.string().includes("-----BEGIN CERTIFICATE-----").max(20_000)).max(50).default([]),
    tenantPki: z.boolean().default(false),
  })
  .strict();
export type TrustList = z.infer<typeof TrustList>;

/**
 * Identity proofing (seed 000): how a request becomes an active identity. `fourEyes`: an
 * operator's approval waits for a supervisor's. Evidence is kept `retentionYears` after the
 * decision (SPID: 20 years). Video sessions are booked in slots on weekdays' working hours. The
 * trust lists: CAs of qualified signatures (the signed contract), of CNS cards (TLS client
 * certificates) and the CSCAs of electronic identity documents (ICAO 9303).
 */
export const ProofingPolicy = z
  .object({
    /** The IdP's four letters that begin every spidCode (then ten digits, never reused). */
    spidCodePrefix: z.string().regex(/^[A-Z]{4}$/).default("TESS"),
    fourEyes: z.boolean().default(false),
    retentionYears: int(1, 50).default(20),
    maxUploadBytes: int(10_000, 20_000_000).default(5_000_000),
    video: z
      .object({
        slotMinutes: int(10, 120).default(20),
        /** Hours of the day (the tenant's time zone) a session may start. */
        fromHour: int(0, 23).default(9),
        toHour: int(1, 24).default(18),
        daysAhead: int(1, 60).default(14),
      })
      .strict()
      .default({ slotMinutes: 20, fromHour: 9, toHour: 18, daysAhead: 14 }),
    trust: z
      .object({ signature: TrustList.default({ pem: [], tenantPki: false }), cns: TrustList.default({ pem: [], tenantPki: false }), csca: TrustList.default({ pem: [], tenantPki: false }) })
      .strict()
      .default({ signature: { pem: [], tenantPki: false }, cns: { pem: [], tenantPki: false }, csca: { pem: [], tenantPki: false } }),
  })
  .strict();
export type ProofingPolicy = z.infer<typeof ProofingPolicy>;

/** The online identity request (seed 000). Tenants without it have no enrolment pages. */
export const EnrolmentPolicy = z
  .object({
    /** Identification methods offered, in the order shown. */
    methods: z.array(z.enum(IDENTIFICATION_METHODS)).min(1).default([...IDENTIFICATION_METHODS]),
    /** Registration points for identification in person. */
    points: z
      .array(z.object({ id: z.string().regex(/^[a-z0-9-]{1,40}$/), name: z.string().min(1), address: z.string().min(1) }).strict())
      .default([]),
    /** Days an unfinished request is kept (and can be resumed) before it is deleted. */
    requestDays: int(1, 365).default(30),
    /** Days before that deadline on which a reminder e-mail goes out. */
    reminderDaysBefore: int(1, 60).default(7),
    /** How long the e-mail confirmation code and link stay valid. */
    emailConfirmationMinutes: int(5, 7 * 24 * 60).default(60),
    /** Proof-of-work difficulty of the captcha (ALTCHA maximum number; ~0.1 s per 100,000). */
    captchaMaxNumber: int(1000, 10_000_000).default(100_000),
    /** Versions of the texts agreed to, recorded with each consent. */
    versions: z
      .object({ privacy: z.string().default("1"), marketing: z.string().default("1"), contract: z.string().default("1") })
      .strict()
      .default({ privacy: "1", marketing: "1", contract: "1" }),
    proofing: ProofingPolicy.default(ProofingPolicy.parse({})),
  })
  .strict();
export type EnrolmentPolicy = z.infer<typeof EnrolmentPolicy>;

/** The SAML identity provider (SPID profile). */
export const SamlPolicy = z
  .object({
    /** How far an AuthnRequest's IssueInstant may be from this server's clock (SPID ErrorCode nr13). */
    clockSkewSeconds: int(0, 600).default(120),
    /** How long a user has to sign in before the request times out (SPID ErrorCode nr21). */
    requestMinutes: int(1, 60).default(15),
    /** How long an assertion may be presented to the service provider (Conditions, SubjectConfirmationData). */
    assertionMinutes: int(1, 60).default(5),
  })
  .strict();
export type SamlPolicy = z.infer<typeof SamlPolicy>;

/** Local accounts anyone may open ("Registrati", seed 001), with an identifier handed out in sequence. */
export const RegistrationPolicy = z
  .object({
    enabled: z.boolean().default(false),
    /** The first codice persona handed out; each next one is one more, and none is ever reused. */
    firstCodicePersona: int(10_000_000, 99_999_999).default(10_000_001),
    /** How long the e-mail confirmation code and link stay valid. */
    emailConfirmationMinutes: int(5, 7 * 24 * 60).default(60 * 24),
    /** Proof-of-work difficulty of the registration captcha (ALTCHA maximum number). */
    captchaMaxNumber: int(1000, 10_000_000).default(100_000),
  })
  .strict();
export type RegistrationPolicy = z.infer<typeof RegistrationPolicy>;

/**
 * Two factors for every session (seed 001: "l'autenticazione a due fattori è obbligatoria"), not
 * only for those that ask for level 2: after the first factor, a user without a second one is sent
 * to activate one, among the ways their citizenship allows.
 */
export const TwoFactorPolicy = z
  .object({
    mandatory: z.boolean().default(false),
    /**
     * How long the authenticator app allowed by a declaration of being unable to use SPID/CIE
     * counts; then SPID/CIE is required again.
     */
    declarationDays: int(1, 3650).default(180),
  })
  .strict();
export type TwoFactorPolicy = z.infer<typeof TwoFactorPolicy>;

/**
 * A tenant that signs its users in through upstream identity providers (seed 001): what its SAML
 * service provider metadata says of it (SPID: Avviso n. 29 v3, ContactPerson with the IPA code of
 * a public administration or the VAT number of a private body) and the level it asks for.
 */
export const BrokerPolicy = z
  .object({
    /** The name of the service, in the metadata's AttributeConsumingService. */
    serviceName: LocalizedText.default({}),
    contact: z
      .object({
        email: z.string().email(),
        telephone: z.string().regex(/^\+\d{6,15}$/).optional(),
        /** A public administration's code in the IPA index (then the body is public). */
        ipaCode: z.string().min(1).max(40).optional(),
        /** A private body's VAT number, with its country prefix (IT…). */
        vatNumber: z.string().regex(/^[A-Z]{2}[0-9A-Z]{2,13}$/).optional(),
      })
      .strict()
      .refine((c) => Boolean(c.ipaCode) !== Boolean(c.vatNumber), "give either ipaCode (public) or vatNumber (private)")
      .optional(),
    /** How long the user has to sign in at the upstream before the request lapses. */
    requestMinutes: int(1, 60).default(15),
    /** How far an upstream's clock may be from this one, for IssueInstant and the validity window. */
    clockSkewSeconds: int(0, 600).default(120),
  })
  .strict();
export type BrokerPolicy = z.infer<typeof BrokerPolicy>;

/**
 * Professionals in the cloud (seed 002): organisations whose representatives authorise their
 * members' requests, made with a professional card (mutual TLS) or at a corporate desk; the
 * six-step activation by e-mail link; one qualified signing certificate per organisation, its key
 * made in the tenant's keystore.
 */
export const ProfessionalsPolicy = z
  .object({
    enabled: z.boolean().default(false),
    /** How long the activation link (step 1) works; a representative can send a new one. */
    activationLinkHours: int(1, 30 * 24).default(72),
    /** The version of the terms of use accepted at step 5, recorded with the acceptance. */
    termsVersion: z.string().min(1).max(40).default("1"),
    /** The algorithm of the signing keys made for each certificate. */
    keyAlgorithm: KeyAlgorithm.default("EC-P256"),
    /** Corporate desks where requests are made in person; each desk officer works at one. */
    desks: z
      .array(z.object({ id: z.string().regex(/^[a-z0-9-]{1,40}$/), name: z.string().min(1), address: z.string().min(1) }).strict())
      .default([]),
    /** CAs of the professional cards a request may be made with, and a sign-in (TLS client certificates). */
    trust: z.object({ card: TrustList.default({ pem: [], tenantPki: false }) }).strict().default({ card: { pem: [], tenantPki: false } }),
  })
  .strict();
export type ProfessionalsPolicy = z.infer<typeof ProfessionalsPolicy>;

/**
 * Remote signing through the CSC API v2 (`/t/<tenant>/csc/v2`) and the panel's signing page, with
 * the professionals' credentials (one per organisation). An authorisation (SAD) is good for
 * `sadSeconds` and at most `maxSignatures` hashes, each signed once.
 */
export const SigningPolicy = z
  .object({
    enabled: z.boolean().default(false),
    sadSeconds: int(30, 3600).default(300),
    maxSignatures: int(1, 10_000).default(1000),
    /** One-time codes a signer may be sent per hour and credential (each authorises one signature or one batch). */
    codesPerHour: int(1, 1000).default(60),
  })
  .strict();
export type SigningPolicy = z.infer<typeof SigningPolicy>;

const Oid = z.string().regex(/^[0-2](\.(0|[1-9][0-9]*))+$/, "must be an object identifier such as 1.3.6.1.4.1.99999.1");

/**
 * The tenant's certification authorities (pki/): where their keys live, how strong they are, what
 * they are called, and the policies, lifetimes and status services of what they issue. Defaults
 * follow ETSI EN 319 411-1/-2 and EN 319 421 for a qualified trust service.
 */
export const PkiPolicy = z
  .object({
    /** `tessera start --demo` sets the PKI up for such a tenant; `tessera pki init` does it for any. */
    enabled: z.boolean().default(false),
    keystore: KeystoreConfig.default({ kind: "software" }),
    algorithms: z
      .object({
        root: KeyAlgorithm.default("RSA-4096"),
        issuing: KeyAlgorithm.default("RSA-3072"),
        ocsp: KeyAlgorithm.default("RSA-3072"),
        tsa: KeyAlgorithm.default("RSA-3072"),
      })
      .strict()
      .default({ root: "RSA-4096", issuing: "RSA-3072", ocsp: "RSA-3072", tsa: "RSA-3072" }),
    /** The body that runs the CAs, in their names (countryName, organizationName, organizationIdentifier). */
    organization: z
      .object({
        name: z.string().trim().min(1).max(64),
        identifier: z.string().regex(/^(VAT|NTR)[A-Z]{2}-[A-Z0-9]{1,60}$/).optional(),
        country: z.string().regex(/^[A-Z]{2}$/),
      })
      .strict()
      .optional(),
    /** Policy OIDs of the tenant's certificate policy, beside ETSI's (QCP-n-qscd for qualified certificates), with the CPS's URL. */
    certificatePolicies: z.array(z.object({ oid: Oid, cpsUrl: z.string().url().optional() }).strict()).max(5).default([]),
    /** The PKI disclosure statement (QcPDS); the tenant's `/pki/pds` page when absent. */
    pdsUrl: z.string().url().optional(),
    validity: z
      .object({
        rootYears: int(5, 30).default(20),
        issuingYears: int(2, 20).default(10),
        ocspSignerDays: int(7, 1095).default(365),
        tsaYears: int(1, 15).default(10),
        /** End-entity certificates (qualified signing, TLS client). */
        certificateDays: int(1, 1825).default(1095),
      })
      .strict()
      .default({ rootYears: 20, issuingYears: 10, ocspSignerDays: 365, tsaYears: 10, certificateDays: 1095 }),
    crl: z
      .object({
        /** nextUpdate − thisUpdate. */
        validityHours: int(1, 24 * 10).default(48),
        /** A new CRL is signed at least this often, revocations or not. */
        reissueHours: int(1, 24 * 7).default(24),
      })
      .strict()
      .default({ validityHours: 48, reissueHours: 24 }),
    ocsp: z
      .object({
        /** nextUpdate − thisUpdate of each response. */
        validityHours: int(1, 24 * 7).default(24),
        /** A response signed ahead is served for this long while the status stays the same. */
        refreshMinutes: int(1, 24 * 60).default(60),
      })
      .strict()
      .default({ validityHours: 24, refreshMinutes: 60 }),
    tsa: z
      .object({
        /** The TSA policy (TSTInfo.policy): by default ETSI's best practices policy (EN 319 421 BTSP). */
        policy: Oid.default("0.4.0.2023.1.1"),
        /** The accuracy stated in each token; the server's clock is assumed synchronised within it (NTP). */
        accuracyMillis: int(1, 60_000).default(1000),
      })
      .strict()
      .default({ policy: "0.4.0.2023.1.1", accuracyMillis: 1000 }),
  })
  .strict();
export type PkiPolicy = z.infer<typeof PkiPolicy>;

export const SecurityQuestion = z.object({ id: z.string().regex(/^[a-z0-9_]{1,40}$/), text: LocalizedText }).strict();

/**
 * The tenant's policy document. Unknown keys are rejected so that a typo never silently weakens a
 * policy; missing keys take the defaults above.
 */
export const TenantPolicy = z
  .object({
    /** What identifies an account: e-mail (SPID user ID), Spanish DNI/NIE, or university codice persona. */
    identifier: z.enum(["email", "dni", "codice_persona"]).default("email"),
    /** IANA time zone in which dates are shown to users (messages, pages). */
    timeZone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat("en", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, "must be an IANA time zone such as Europe/Rome")
      .default("UTC"),
    password: PasswordPolicy.default(PasswordPolicy.parse({})),
    otp: OtpPolicy.default(OtpPolicy.parse({})),
    session: SessionPolicy.default(SessionPolicy.parse({})),
    lockout: LockoutPolicy.default(LockoutPolicy.parse({})),
    factors: FactorPolicy.default(FactorPolicy.parse({})),
    securityQuestions: z.array(SecurityQuestion).default([]),
    enrolment: EnrolmentPolicy.nullable().default(null),
    inactivity: InactivityPolicy.default(InactivityPolicy.parse({})),
    recovery: RecoveryPolicy.default(RecoveryPolicy.parse({})),
    saml: SamlPolicy.default(SamlPolicy.parse({})),
    registration: RegistrationPolicy.default(RegistrationPolicy.parse({})),
    twoFactor: TwoFactorPolicy.default(TwoFactorPolicy.parse({})),
    broker: BrokerPolicy.default(BrokerPolicy.parse({})),
    pki: PkiPolicy.default(PkiPolicy.parse({})),
    professionals: ProfessionalsPolicy.default(ProfessionalsPolicy.parse({})),
    signing: SigningPolicy.default(SigningPolicy.parse({})),
    /**
     * Overrides of message texts (e-mail and SMS templates, see messaging/templates.ts) by
     * language and key, e.g. `{"it": {"sms.otp": "Codice {code}"}}`.
     */
    messages: z.partialRecord(Locale, z.record(z.string(), z.string().min(1).max(5000))).default({}),
  })
  .strict();
export type TenantPolicy = z.infer<typeof TenantPolicy>;
