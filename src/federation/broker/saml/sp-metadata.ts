import { localized } from "../../../tenants/policy.ts";
import type { Tenant } from "../../../tenants/tenant.ts";
import { TRANSIENT } from "../../saml/checks/name-id-policy.ts";
import type { SamlCredential } from "../../saml/credential.ts";
import { samlId } from "../../saml/response.ts";
import { BINDING } from "../../saml/service-provider.ts";
import { signElement } from "../../saml/signature.ts";
import { el, NS, startTag, text } from "../../saml/xml.ts";

/**
 * The broker tenant as a SAML service provider of the SPID profile (Regole tecniche §1.3.1; Avviso
 * SPID n. 29 v3): signed AuthnRequests and signed assertions wanted, its signing certificate (the
 * tenant's SAML credential), transient NameIDs, one HTTP-POST assertion consumer service (index 0),
 * one attribute set (index 0: what an account is made from), the organisation, and
 * the SPID contact person with its IPA code (public) or VAT number (private). The document is signed.
 */
export const SP_ATTRIBUTES = ["fiscalNumber", "name", "familyName", "email"] as const;
export const ACS_INDEX = 0;
export const ATTRIBUTE_SET_INDEX = 0;

export interface SpEndpoints {
  entityId: string;
  acsUrl: string;
  organizationUrl: string;
}

/** Where the tenant's service provider lives, under its issuer. */
export function spEndpoints(tenantUrl: string, publicUrl: string): SpEndpoints {
  return { entityId: `${tenantUrl}/saml/sp`, acsUrl: `${tenantUrl}/saml/sp/acs`, organizationUrl: publicUrl };
}

export async function serviceProviderMetadata(tenant: Tenant, sp: SpEndpoints, credential: SamlCredential): Promise<string> {
  const id = samlId();
  const lang = { "xml:lang": tenant.defaultLocale };
  const serviceName = localized(tenant.policy.broker.serviceName, tenant.defaultLocale, tenant.defaultLocale) || tenant.displayName;
  const keyInfo = el("ds:KeyInfo", { "xmlns:ds": NS.ds }, el("ds:X509Data", {}, el("ds:X509Certificate", {}, credential.certificate)));
  const descriptor = el("md:SPSSODescriptor", { AuthnRequestsSigned: "true", WantAssertionsSigned: "true", protocolSupportEnumeration: NS.samlp }, [
    el("md:KeyDescriptor", { use: "signing" }, keyInfo),
    el("md:NameIDFormat", {}, TRANSIENT),
    el("md:AssertionConsumerService", { Binding: BINDING.post, Location: sp.acsUrl, index: String(ACS_INDEX), isDefault: "true" }),
    el("md:AttributeConsumingService", { index: String(ATTRIBUTE_SET_INDEX) }, [
      el("md:ServiceName", lang, text(serviceName)),
      ...SP_ATTRIBUTES.map((name) => el("md:RequestedAttribute", { Name: name })),
    ]),
  ]);
  const organization = el("md:Organization", {}, [
    el("md:OrganizationName", lang, text(tenant.displayName)),
    el("md:OrganizationDisplayName", lang, text(tenant.displayName)),
    el("md:OrganizationURL", lang, text(sp.organizationUrl)),
  ]);
  const contact = tenant.policy.broker.contact;
  const contactPerson = contact
    ? el("md:ContactPerson", { contactType: "other" }, [
        el("md:Extensions", { "xmlns:spid": NS.spid }, [
          contact.ipaCode ? el("spid:IPACode", {}, text(contact.ipaCode)) : el("spid:VATNumber", {}, text(contact.vatNumber!)),
          contact.ipaCode ? el("spid:Public", {}) : el("spid:Private", {}),
        ]),
        el("md:EmailAddress", {}, text(contact.email)),
        ...(contact.telephone ? [el("md:TelephoneNumber", {}, text(contact.telephone))] : []),
      ])
    : "";
  const head = startTag("md:EntityDescriptor", { "xmlns:md": NS.md, ID: id, entityID: sp.entityId });
  return signElement({ id, head, tail: descriptor + organization + contactPerson + "</md:EntityDescriptor>" }, credential);
}
