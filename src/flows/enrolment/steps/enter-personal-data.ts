import { isCalendarDate } from "../../../shared/i18n/dates.ts";
import { z } from "zod";
import { personalColumns } from "../../../identity/accounts.ts";
import { codiceFiscaleMismatches, decodeCodiceFiscale } from "../../../identity/codice-fiscale.ts";
import type { AttemptStore } from "../../../identity/brute-force.ts";
import { auditTaken, identifierChecks } from "../../../identity/identifier-checks.ts";
import { normalizeEmail } from "../../../identity/identifiers.ts";
import { checkPasswordRules } from "../../../identity/password/rules.ts";
import { existedOn, type Place, placeByCode, placesNamed } from "../../../identity/places.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { FieldSpec, StepDefinition } from "../../flow.ts";
import { type EnrolmentData, sealContext, text } from "../data.ts";
import { personalOf } from "./change-password.ts";
import { dayOf } from "../../../shared/i18n/dates.ts";

/** Identity documents SPID accepts (Regole tecniche, art. 7), as the `idCard` attribute names them. */
export const DOCUMENT_TYPES = ["carta_identita", "passaporto", "patente_guida", "patente_nautica", "porto_armi", "tessera_riconoscimento"] as const;

const FIELDS = [
  "given_name",
  "family_name",
  "sex",
  "birth_date",
  "birth_place",
  "fiscal_code",
  "document_type",
  "document_number",
  "document_issuer",
  "document_issue_date",
  "document_expiry_date",
  "health_card_number",
  "health_card_expiry",
  "address",
  "postal_code",
  "city",
  "province",
  "pec",
] as const;
type Field = (typeof FIELDS)[number];
type Input = Partial<Record<Field, string>>;

const Input = z.object(Object.fromEntries(FIELDS.map((f) => [f, text(120)])) as Record<Field, ReturnType<typeof text>>);

const OPTIONAL: Field[] = ["pec"];

/**
 * Step 6: personal data, as the identity document and the health card show them. The place of
 * birth is a municipality (by Belfiore code or name, existing on the birth date) or a foreign
 * country; the codice fiscale must be well formed, carry the right check character (omocodia
 * accepted) and agree with names, birth date, sex and place; an expired document or health card
 * is refused; the codice fiscale may hold one identity only. The chosen password is then checked
 * against these data: if it contains them, a new one is asked for.
 */
export function enterPersonalData(outside: { attempts: AttemptStore; clockNow(): number }): StepDefinition<EnrolmentData, Input> {
  const checks = identifierChecks(outside);
  return {
    name: "personal_data",
    input: Input,
    reachableFrom: ["summary"],

    /** Whether a codice fiscale already has an identity is told to a limited number of submissions (identity/identifier-checks.ts). */
    gate: (ctx, input) => (input.fiscal_code ? checks.book(ctx, "fiscal_code") : Promise.resolve(null)),

    async settle(ctx, input, outcome) {
      if (!input.fiscal_code) return;
      const checked = outcome.type !== "reject" || outcome.errors.some((e) => e.code === "fiscal_code.taken");
      await checks.settle(ctx, checked);
    },

    fields({ flow, t }) {
      const value = (f: Field) => flow.data.personal?.[f];
      const field = (name: Field, type: FieldSpec["type"], extra: Partial<FieldSpec> = {}): FieldSpec => ({
        name,
        type,
        required: !OPTIONAL.includes(name),
        label: t(`enrol.field.${name}`),
        ...(value(name) !== undefined ? { value: value(name)! } : {}),
        ...extra,
      });
      return [
        field("given_name", "text", { autocomplete: "given-name" }),
        field("family_name", "text", { autocomplete: "family-name" }),
        field("sex", "radio", { options: [{ value: "F", label: t("enrol.sex.F") }, { value: "M", label: t("enrol.sex.M") }] }),
        field("birth_date", "date", { autocomplete: "bday" }),
        field("birth_place", "text", { hint: t("enrol.field.birth_place.hint") }),
        field("fiscal_code", "text", { hint: t("enrol.field.fiscal_code.hint") }),
        field("document_type", "select", { options: DOCUMENT_TYPES.map((d) => ({ value: d, label: t(`enrol.document.${d}`) })) }),
        field("document_number", "text"),
        field("document_issuer", "text", { hint: t("enrol.field.document_issuer.hint") }),
        field("document_issue_date", "date"),
        field("document_expiry_date", "date"),
        field("health_card_number", "text", { hint: t("enrol.field.health_card_number.hint") }),
        field("health_card_expiry", "date"),
        field("address", "text", { autocomplete: "street-address" }),
        field("postal_code", "text", { autocomplete: "postal-code" }),
        field("city", "text", { autocomplete: "address-level2" }),
        field("province", "text", { hint: t("enrol.field.province.hint") }),
        field("pec", "email", { hint: t("enrol.field.pec.hint") }),
      ];
    },

    async handle(ctx, input) {
      const { deps, tenant, flow } = ctx;
      const today = dayOf(deps.clock.now(), tenant.policy.timeZone);
      const errors: FieldIssue[] = [];
      const fail = (field: Field, code: string, params?: Record<string, string | number>) =>
        errors.push({ field, code, message: code, ...(params ? { params } : {}) });

      for (const f of FIELDS) if (!OPTIONAL.includes(f) && !input[f]) fail(f, "enrol.required");
      const nameOk = (v: string | undefined) => v !== undefined && /^[\p{L}][\p{L}\p{M}' .-]{0,59}$/u.test(v);
      if (input.given_name && !nameOk(input.given_name)) fail("given_name", "enrol.invalid_name");
      if (input.family_name && !nameOk(input.family_name)) fail("family_name", "enrol.invalid_name");
      const sex = input.sex?.toUpperCase();
      if (input.sex && sex !== "M" && sex !== "F") fail("sex", "enrol.invalid_sex");

      const birthDate = input.birth_date;
      const birthDateOk = birthDate !== undefined && isCalendarDate(birthDate);
      if (birthDate && !birthDateOk) fail("birth_date", "enrol.invalid_date");
      else if (birthDate && (birthDate > today || birthDate < "1900-01-01")) fail("birth_date", "enrol.birth_date_range");

      let place: Place | undefined;
      if (input.birth_place) {
        const candidates = /^[A-Za-z]\d{3}$/.test(input.birth_place)
          ? [await placeByCode(input.birth_place)].filter((p): p is Place => p !== undefined)
          : await placesNamed(input.birth_place);
        const atBirth = birthDateOk ? candidates.filter((p) => existedOn(p, birthDate)) : candidates;
        if (candidates.length === 0) fail("birth_place", "enrol.birth_place_unknown");
        else if (atBirth.length === 0) fail("birth_place", "enrol.birth_place_not_at_date");
        else if (atBirth.length > 1) fail("birth_place", "enrol.birth_place_ambiguous", { choices: atBirth.map((p) => `${p.name} (${p.province ?? "EE"})`).join(", ") });
        else place = atBirth[0];
      }

      const fiscal = input.fiscal_code ? decodeCodiceFiscale(input.fiscal_code) : undefined;
      // The code is compared with the data it encodes only once they are valid themselves:
      // otherwise one mistake would be reported twice.
      const encodedFieldsOk = !errors.some((e) => ["given_name", "family_name", "sex", "birth_date", "birth_place"].includes(e.field));
      if (fiscal && !fiscal.ok) fail("fiscal_code", `fiscal_code.${fiscal.problem}`);
      else if (fiscal?.ok && encodedFieldsOk && input.given_name && input.family_name && birthDateOk && (sex === "M" || sex === "F") && place) {
        const mismatches = codiceFiscaleMismatches(fiscal.value, {
          givenName: input.given_name,
          familyName: input.family_name,
          birthDate,
          sex,
          birthPlace: place.code,
        });
        const label = translator(ctx.locale);
        if (mismatches.length > 0) fail("fiscal_code", "fiscal_code.mismatch", { fields: mismatches.map((m) => label(`enrol.field.${m}`)).join(", ") });
      }

      if (input.document_type && !(DOCUMENT_TYPES as readonly string[]).includes(input.document_type)) fail("document_type", "document.type_unknown");
      if (input.document_number && !/^[A-Za-z0-9]{5,20}$/.test(input.document_number)) fail("document_number", "document.number_invalid");
      checkDates(input.document_issue_date, input.document_expiry_date, today, "document", fail);
      if (input.health_card_number && !/^80380\d{15}$/.test(input.health_card_number.replace(/\s/g, ""))) {
        fail("health_card_number", "health_card.invalid");
      }
      if (input.health_card_expiry) {
        if (!isCalendarDate(input.health_card_expiry)) fail("health_card_expiry", "enrol.invalid_date");
        else if (input.health_card_expiry < today) fail("health_card_expiry", "health_card.expired");
      }
      if (input.postal_code && !/^\d{5}$/.test(input.postal_code)) fail("postal_code", "address.postal_code");
      if (input.province && !/^[A-Za-z]{2}$/.test(input.province)) fail("province", "address.province");
      const pec = input.pec ? normalizeEmail(input.pec) : null;
      if (input.pec && !pec) fail("pec", "identifier.invalid_email");

      // Whether the codice fiscale already has an identity is said only once everything else is
      // right: each answer then costs a whole valid form and a booked check.
      if (errors.length === 0 && fiscal?.ok) {
        const holder = await deps.repos.accounts.findByFiscalCode(tenant.id, "identity", fiscal.value.code);
        if (holder && holder.id !== flow.accountId) {
          await auditTaken(deps, tenant, ctx.by, { holder: holder.id, field: "fiscal_code", flowId: flow.id });
          fail("fiscal_code", "fiscal_code.taken");
        }
      }

      // What was entered is kept in the flow either way, so that the form comes back filled in.
      const remembered = { personal: Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Record<string, string> };
      if (errors.length > 0) return { type: "reject", errors, data: remembered };

      await deps.repos.accounts.update(tenant.id, flow.accountId!, {
        ...personalColumns({
          givenName: input.given_name!,
          familyName: input.family_name!,
          sex: sex as "M" | "F",
          birthDate: birthDate!,
          birthPlace: place!.code,
          countyOfBirth: place!.foreign ? "EE" : place!.province,
          fiscalCode: fiscal?.ok ? fiscal.value.code : null,
          documentType: input.document_type!,
          documentNumber: input.document_number!.toUpperCase(),
          documentIssuer: input.document_issuer!,
          documentIssueDate: input.document_issue_date!,
          documentExpiryDate: input.document_expiry_date!,
          healthCardNumber: input.health_card_number!.replace(/\s/g, ""),
          healthCardExpiry: input.health_card_expiry!,
          address: input.address!,
          postalCode: input.postal_code!,
          city: input.city!,
          province: input.province!.toUpperCase(),
          digitalAddress: pec,
        }),
        updated_at: deps.clock.now(),
      });

      // The password, chosen before these data were known, must not contain them either.
      if (flow.data.sealedPassword) {
        const password = deps.secrets.open(flow.data.sealedPassword, sealContext(flow.id));
        const failures = checkPasswordRules(tenant.policy.password, password, personalOf(remembered.personal));
        if (failures.some((f) => f.rule === "password.personal_data")) {
          return {
            type: "advance",
            to: "password_change",
            data: { ...remembered, passwordChange: "personal_data", sealedPassword: undefined },
            notice: { code: "enrol.password_change.personal_data" },
          };
        }
      }
      return { type: "advance", to: "summary", data: { ...remembered, sealedPassword: undefined } };
    },
  };
}

function checkDates(
  issued: string | undefined,
  expires: string | undefined,
  today: string,
  what: "document",
  fail: (field: Field, code: string) => void,
) {
  const issuedOk = issued !== undefined && isCalendarDate(issued);
  const expiresOk = expires !== undefined && isCalendarDate(expires);
  if (issued && !issuedOk) fail("document_issue_date", "enrol.invalid_date");
  if (expires && !expiresOk) fail("document_expiry_date", "enrol.invalid_date");
  if (issuedOk && issued > today) fail("document_issue_date", `${what}.issued_in_future`);
  if (expiresOk && expires < today) fail("document_expiry_date", `${what}.expired`);
  else if (issuedOk && expiresOk && expires <= issued) fail("document_expiry_date", `${what}.expiry_before_issue`);
}
