import type { TenantInput } from "./tenant.ts";

/**
 * The three demo tenants that `tessera start --demo` creates, one per reference system
 * (see DESIGN.md): a SPID identity provider, a university's online services, and professionals'
 * identities with cloud signing certificates.
 */
export const demoTenants: TenantInput[] = [
  {
    id: "national",
    displayName: "Tessera ID",
    locales: ["it", "en"],
    defaultLocale: "it",
    // SPID rules (seed 000 and the AgID technical rules): composition, no more than two identical
    // characters in a row, no personal data, no reuse of the last 5 or of any in 15 months, 180 days.
    policy: {
      identifier: "email",
      timeZone: "Europe/Rome",
      password: {
        minLength: 8,
        requireUppercase: true,
        requireLowercase: true,
        requireDigit: true,
        requireSpecial: true,
        maxRepeat: 2,
        forbidPersonalData: true,
        denyCommon: true,
        history: { count: 5, months: 15 },
        maxAgeDays: 180,
        reminderDays: [15, 7, 1],
      },
      session: { idleMinutes: 30, absoluteHours: 8, reauthMinutes: 15 },
      factors: {
        secondFactors: ["sms", "totp", "passkey", "recovery_code"],
        passkeyFirstFactor: false,
        lostFactorProcedure: {
          it: "Hai perso il cellulare? Accedi con un codice di recupero, oppure chiama l'assistenza al numero verde 800 000 000 con un documento d'identità: dopo la verifica il numero viene sostituito.",
          en: "Lost your phone? Sign in with a recovery code, or call support on 800 000 000 with an identity document: once you are verified, the number is replaced.",
        },
      },
      // SPID: identities unused for 24 months are revoked (Regolamento AgID, art. 7).
      inactivity: { revokeAfterMonths: 24, warnDays: [90, 30, 10, 1] },
      recovery: { method: "question_and_sms" },
      enrolment: {
        methods: ["signature", "cns", "in_person", "video", "cie"],
        points: [
          { id: "roma-corso", name: "Tessera Point Roma Corso", address: "Via del Corso 101, 00186 Roma RM" },
          { id: "milano-duomo", name: "Tessera Point Milano Duomo", address: "Piazza del Duomo 21, 20122 Milano MI" },
          { id: "napoli-toledo", name: "Tessera Point Napoli Toledo", address: "Via Toledo 156, 80134 Napoli NA" },
        ],
        requestDays: 30,
        reminderDaysBefore: 7,
        versions: { privacy: "2026-01", marketing: "2026-01", contract: "2026-01" },
        // The demo's citizens sign the contract and present CNS cards with certificates of the tenant's own CA.
        proofing: { trust: { signature: { tenantPki: true }, cns: { tenantPki: true } } },
      },
      // A qualified trust service beside the IdP: certificates for signature-based proofing and CNS.
      pki: { enabled: true, organization: { name: "Tessera ID", identifier: "VATIT-12345678901", country: "IT" } },
      securityQuestions: [
        { id: "first_pet", text: { it: "Come si chiamava il tuo primo animale domestico?", en: "What was the name of your first pet?" } },
        { id: "mother_maiden_name", text: { it: "Qual è il cognome da nubile di tua madre?", en: "What is your mother's maiden name?" } },
        { id: "primary_school", text: { it: "Come si chiamava la tua scuola elementare?", en: "What was the name of your primary school?" } },
        { id: "childhood_friend", text: { it: "Come si chiamava il tuo migliore amico d'infanzia?", en: "What was the name of your best childhood friend?" } },
        { id: "first_car", text: { it: "Qual era la marca della tua prima automobile?", en: "What was the make of your first car?" } },
        { id: "parents_city", text: { it: "In quale città si sono conosciuti i tuoi genitori?", en: "In which city did your parents meet?" } },
      ],
    },
    branding: {
      primaryColor: "#0b5cad",
      tagline: {
        it: "La tua identità digitale SPID",
        en: "Your SPID digital identity",
      },
      description: {
        it: "Con un'identità digitale SPID accedi con un'unica credenziale ai servizi online della Pubblica Amministrazione e dei privati aderenti. Richiedila online: ti servono un indirizzo e-mail, un telefono cellulare, un documento d'identità valido e la tessera sanitaria.",
        en: "With a SPID digital identity you sign in to the online services of public administrations and participating companies with one credential. Request it online: you need an e-mail address, a mobile phone, a valid identity document and your health card.",
      },
    },
  },
  {
    id: "university",
    displayName: "Università Tessera · Servizi Online",
    locales: ["it", "en"],
    defaultLocale: "it",
    policy: {
      identifier: "codice_persona",
      timeZone: "Europe/Rome",
      password: {
        minLength: 10,
        requireUppercase: true,
        requireLowercase: true,
        requireDigit: true,
        maxRepeat: 3,
        history: { count: 3, months: 0 },
      },
      session: { idleMinutes: 30, absoluteHours: 12 },
      // Two-factor authentication is mandatory here, for every session (seed 001): SPID/CIE at
      // level 2, an authenticator app, or a passkey.
      factors: { secondFactors: ["upstream", "totp", "passkey", "recovery_code"], passkeyFirstFactor: true, required: true },
      twoFactor: { mandatory: true, declarationDays: 180 },
      // "Registrati": anyone may open a local account, and is given a codice persona.
      registration: { enabled: true, firstCodicePersona: 10_000_001 },
      // Its SAML service provider, as SPID wants it described (a public university: an IPA code).
      broker: {
        serviceName: { it: "Servizi Online dell'Ateneo", en: "University Online Services" },
        contact: { email: "servizionline@universita.example", ipaCode: "uni_tessera" },
      },
    },
    branding: {
      primaryColor: "#1d3557",
      tagline: {
        it: "Accesso ai Servizi Online dell'Ateneo",
        en: "Access to the University's Online Services",
      },
      description: {
        it: "Accedi con SPID o CIE, oppure con le credenziali di Ateneo (codice persona e password). L'autenticazione a due fattori è obbligatoria.",
        en: "Sign in with SPID or CIE, or with your University credentials (codice persona and password). Two-factor authentication is mandatory.",
      },
    },
  },
  {
    id: "pro",
    displayName: "Tessera Pro · Profesionales en la nube",
    locales: ["es", "en"],
    defaultLocale: "es",
    policy: {
      identifier: "dni",
      timeZone: "Europe/Madrid",
      password: {
        minLength: 10,
        requireUppercase: true,
        requireLowercase: true,
        requireDigit: true,
        maxRepeat: 3,
        history: { count: 5, months: 12 },
      },
      session: { idleMinutes: 15, absoluteHours: 10 },
      // DNI + password + a one-time code by SMS or e-mail "según lo tenga configurado" (seed 002), at
      // every sign-in.
      factors: { secondFactors: ["sms", "email", "passkey", "recovery_code"], passkeyFirstFactor: false, required: true },
      twoFactor: { mandatory: true },
      // One qualified signing certificate per organisation a professional belongs to (seed 002).
      pki: { enabled: true, organization: { name: "Tessera Pro", identifier: "VATES-A00000000", country: "ES" } },
      professionals: {
        enabled: true,
        termsVersion: "2026-01",
        desks: [
          { id: "bilbao", name: "Tessera Pro · Bilbao", address: "Gran Vía 85, 48011 Bilbao" },
          { id: "vitoria", name: "Tessera Pro · Vitoria-Gasteiz", address: "Calle Dato 20, 01005 Vitoria-Gasteiz" },
        ],
        // The demo's professional cards carry certificates of the tenant's own CA.
        trust: { card: { tenantPki: true } },
      },
      // Their certificates sign remotely: the CSC API v2 and the panel's signing page.
      signing: { enabled: true },
    },
    branding: {
      primaryColor: "#0f6e5a",
      tagline: {
        es: "Tu identidad digital profesional, en la nube",
        en: "Your professional digital identity, in the cloud",
      },
      description: {
        es: "Un medio de identificación electrónica para profesionales de cualquier entidad: DNI, contraseña y un código de un solo uso, con un certificado de firma cualificado en la nube para cada entidad a la que perteneces.",
        en: "An electronic identification means for professionals of any organisation: DNI, password and a one-time code, with a qualified signing certificate in the cloud for each organisation you belong to.",
      },
    },
  },
];
