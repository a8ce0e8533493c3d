import type { SafeHtml } from "./html.ts";
import { html } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

/**
 * The HTTP-POST binding's form (SAML bindings §3.5.4): posted by a same-origin script as soon as
 * the page loads (our Content-Security-Policy allows no inline script, and names the target in
 * form-action), and by the user's press of its button where scripts do not run.
 */
export function postFormPage(ctx: PageContext, input: { action: string; fields: Record<string, string>; serviceName?: string | undefined }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t("saml.post.title"),
    scripts: ["/assets/saml-post.js"],
    body: html`<h1>${t("saml.post.title")}</h1>
<form id="saml-post" method="post" action="${input.action}">
${Object.entries(input.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<noscript><p>${t("saml.post.noscript")}</p></noscript>
<button type="submit" class="button primary">${input.serviceName ? t("saml.post.continue_to", { service: input.serviceName }) : t("saml.post.continue")}</button>
</form>`,
  });
}

/** Before the first release of attributes to a service provider: which go to whom, and a choice. */
export function attributeConsentPage(ctx: PageContext, input: { action: string; csrf: string; serviceName: string; entityId: string; attributes: { label: string; value: string }[] }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t("saml.consent.title", { service: input.serviceName }),
    body: html`<h1>${t("saml.consent.title", { service: input.serviceName })}</h1>
<p>${t("saml.consent.intro", { service: input.serviceName })} <code>${input.entityId}</code></p>
<dl class="claims">${input.attributes.map((a) => html`<dt>${a.label}</dt><dd>${a.value}</dd>`)}</dl>
<p class="aside">${t("saml.consent.remembered")}</p>
<form method="post" action="${input.action}" class="inline-form">
  <input type="hidden" name="csrf_token" value="${input.csrf}">
  <button type="submit" name="decision" value="allow" class="button primary">${t("saml.consent.allow")}</button>
  <button type="submit" name="decision" value="deny" class="button">${t("saml.consent.deny")}</button>
</form>`,
  });
}
