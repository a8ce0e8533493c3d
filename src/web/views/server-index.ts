import type { Tenant } from "../../tenants/tenant.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";
import { localized } from "../../tenants/policy.ts";

/** The server's own page: the identity services it runs, each with its home page. */
export function serverIndexPage(ctx: PageContext, tenants: Tenant[]): SafeHtml {
  return layout(ctx, {
    title: ctx.t("index.title"),
    body: html`<h1>${ctx.t("index.title")}</h1>
<p>${ctx.t("index.intro")}</p>
<ul class="tenant-list">${tenants.map(
      (tenant) => html`<li><a href="/t/${tenant.id}/">${tenant.displayName}</a>
  <span>${localized(tenant.branding.tagline, ctx.locale, tenant.defaultLocale)}</span></li>`,
    )}</ul>`,
  });
}
