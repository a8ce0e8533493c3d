import { EID } from "../../federation/oidc/claims.ts";
import type { ConsentRequest } from "../../federation/oidc/consent.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

/** A claim's label key: the Italian eID claims by their last segment. */
export function claimLabel(claim: string): MessageKey {
  return `oidc.claim.${claim.startsWith(EID) ? claim.slice(EID.length) : claim}` as MessageKey;
}

/** Claims as people are shown them: whether a contact is verified goes with the contact. */
export function shownClaims(claims: readonly string[]): string[] {
  return claims.filter((c) => c !== "email_verified" && c !== "phone_number_verified");
}

/**
 * The consent screen: who asks, for which data (each claim by name), and whether access goes on
 * while the holder is away (offline_access). Both answers post back to the interaction.
 */
export function consentPage(ctx: PageContext, input: { action: string; clientName: string; request: ConsentRequest }): SafeHtml {
  const { t } = ctx;
  const { request } = input;
  const shown = shownClaims(request.claims);
  return layout(ctx, {
    title: t("oidc.consent.title", { client: input.clientName }),
    body: html`<h1>${t("oidc.consent.title", { client: input.clientName })}</h1>
<p>${t("oidc.consent.intro", { client: input.clientName })}</p>
${shown.length > 0 ? html`<ul class="claims">${shown.map((c) => html`<li>${t(claimLabel(c))}</li>`)}</ul>` : html`<p>${t("oidc.consent.identity_only")}</p>`}
${request.offlineAccess ? html`<p>${t("oidc.consent.offline_access")}</p>` : ""}
${request.resources.length > 0 ? html`<p>${t("oidc.consent.resources")}</p><ul>${request.resources.map((r) => html`<li><code>${r}</code></li>`)}</ul>` : ""}
<p class="aside">${t("oidc.consent.remembered")}</p>
<form method="post" action="${input.action}" class="inline-form">
  <button type="submit" name="decision" value="allow" class="button primary">${t("oidc.consent.allow")}</button>
  <button type="submit" name="decision" value="deny" class="button">${t("oidc.consent.deny")}</button>
</form>`,
  });
}

/** oidc-provider's logout confirmation form, read apart so that it is rendered like any other. */
export function logoutForm(form: string): { action: string; xsrf: string } | undefined {
  const action = /action="([^"]+)"/.exec(form)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(form)?.[1];
  return action && xsrf ? { action, xsrf } : undefined;
}

/** RP-initiated logout: sign out of the tenant (every service), or only leave the one that asked. */
export function logoutConfirmPage(ctx: PageContext, input: { action: string; xsrf: string; clientName: string | undefined }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t("oidc.logout.title"),
    body: html`<h1>${t("oidc.logout.title")}</h1>
<p>${input.clientName ? t("oidc.logout.from_client", { client: input.clientName }) : t("oidc.logout.question")}</p>
<form method="post" action="${input.action}" class="inline-form">
  <input type="hidden" name="xsrf" value="${input.xsrf}">
  <button type="submit" name="logout" value="yes" class="button primary">${t("oidc.logout.yes")}</button>
  <button type="submit" class="button">${t("oidc.logout.no")}</button>
</form>`,
  });
}

export function loggedOutPage(ctx: PageContext, input: { clientName: string | undefined }): SafeHtml {
  const { t } = ctx;
  const home = ctx.tenant ? `/t/${ctx.tenant.id}/` : "/";
  return layout(ctx, {
    title: t("oidc.logged_out.title"),
    body: html`<h1>${t("oidc.logged_out.title")}</h1>
<p>${input.clientName ? t("oidc.logged_out.from_client", { client: input.clientName }) : t("oidc.logged_out.text")}</p>
<p><a href="${home}">${t("error.home")}</a></p>`,
  });
}
