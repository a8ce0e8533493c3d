import { listOrganizations } from "../../../identity/organizations.ts";
import { ValidationError } from "../../../shared/errors.ts";
import type { IdentityDeps } from "../../../identity/deps.ts";
import type { Translate } from "../../../shared/i18n/translate.ts";
import type { Tenant } from "../../../tenants/tenant.ts";
import type { FieldSpec, StepDefinition } from "../../flow.ts";
import { checkRequest, MembershipRequest } from "../../professionals/memberships.ts";
import type { MembershipRequestData } from "../data.ts";

/** The fields of a request, as the card page and the desk officer's form ask them, with `values` typed before. */
export async function requestFields(deps: IdentityDeps, tenant: Tenant, t: Translate, values: Record<string, string>): Promise<FieldSpec[]> {
  const value = (name: string) => (values[name] !== undefined ? { value: values[name] } : {});
  const organizations = await listOrganizations(deps, tenant);
  return [
    { name: "organization", type: "select", required: true, label: t("professionals.field.organization"), options: organizations.map((o) => ({ value: o.id, label: `${o.name} (${o.taxId})` })), ...value("organization") },
    { name: "dni", type: "text", required: true, label: t("login.identifier.dni"), autocomplete: "off", ...value("dni") },
    { name: "given_name", type: "text", required: true, label: t("enrol.field.given_name"), autocomplete: "given-name", ...value("given_name") },
    { name: "family_name", type: "text", required: true, label: t("enrol.field.family_name"), autocomplete: "family-name", ...value("family_name") },
    { name: "document_expiry_date", type: "date", required: true, label: t("activation.field.dni_expiry"), ...value("document_expiry_date") },
    { name: "email", type: "email", required: true, label: t("enrol.field.email"), autocomplete: "email", ...value("email") },
    { name: "phone", type: "tel", required: false, label: t("enrol.field.mobile"), hint: t("professionals.field.phone.hint"), autocomplete: "tel", ...value("phone") },
    { name: "title", type: "text", required: false, label: t("professionals.field.title"), autocomplete: "organization-title", ...value("title") },
  ];
}

/**
 * What the request is for and who makes it: the organisation, the DNI and names, the DNI's expiry
 * date (the activation asks it back), e-mail and mobile, the position held. Every field is
 * checked here; whether the person already has a request of that organisation is not said to
 * whoever types a DNI, only to the card's holder (`confirm`).
 */
export const enterDetails: StepDefinition<MembershipRequestData, MembershipRequest> = {
  name: "details",
  input: MembershipRequest,

  fields: ({ tenant, flow, t, deps }) => requestFields(deps, tenant, t, flow.data.request ?? {}),

  async handle(ctx, input) {
    const remembered = { request: Object.fromEntries(Object.entries(input).filter(([, v]) => typeof v === "string")) as Record<string, string> };
    try {
      // Whether this DNI already asked is told only once the card has proved it is theirs.
      await checkRequest(ctx.deps, ctx.tenant, input);
    } catch (error) {
      if (error instanceof ValidationError) return { type: "reject", errors: error.issues, data: remembered };
      throw error;
    }
    return { type: "advance", to: "card", data: remembered };
  },
};
