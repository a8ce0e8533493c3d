import { localized, type LocalizedText } from "../../tenants/policy.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

/** A tenant's home page: who runs it, what it is for, and how users identify themselves. */
export function tenantHomePage(ctx: PageContext, tenant: Tenant): SafeHtml {
  const text = (t: LocalizedText) => localized(t, ctx.locale, tenant.defaultLocale);
  const tagline = text(tenant.branding.tagline);
  const description = text(tenant.branding.description);
  return layout(ctx, {
    title: tagline ? `${tenant.displayName} · ${tagline}` : tenant.displayName,
    body: html`<section class="hero">
  <h1>${tenant.displayName}</h1>
  ${tagline ? html`<p class="tagline">${tagline}</p>` : ""}
</section>
${description ? html`<p class="lead">${description}</p>` : ""}
<p class="identifier-note">${ctx.t(`home.identifier.${tenant.policy.identifier}`)}</p>
${tenant.policy.enrolment ? html`<p class="call-to-action"><a class="button primary" href="/t/${tenant.id}/enrol">${ctx.t("enrol.title")}</a> <a href="/t/${tenant.id}/enrol/resume">${ctx.t("enrol.resume.link")}</a></p>` : ""}`,
  });
}

