import { LOCALE_NAMES, type Locale } from "../../shared/i18n/locales.ts";
import type { Translate } from "../../shared/i18n/translate.ts";
import { html, type SafeHtml } from "./html.ts";

export interface PageContext {
  locale: Locale;
  t: Translate;
  /** Languages offered on this page, in the order to show them. */
  locales: readonly Locale[];
  /** Path of the current page, for the language links. */
  path: string;
  /** The tenant whose page this is, if any: its name heads the page and its colours apply. */
  tenant?: { id: string; displayName: string } | undefined;
  /** Development mode: every page says so, with a link to the messages sent. */
  devMode?: boolean;
}

/** The page shell: language, title, skip link, header with the language switch, footer. */
export function layout(ctx: PageContext, page: { title: string; body: SafeHtml; scripts?: string[] }): SafeHtml {
  const { t, tenant } = ctx;
  return html`<!doctype html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/tessera.css">
${tenant ? html`<link rel="stylesheet" href="/t/${tenant.id}/theme.css">` : ""}
${(page.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body>
<a class="skip-link" href="#main">${t("site.skip_to_content")}</a>
${ctx.devMode ? devBanner(ctx) : ""}
<header class="site-header">
  <div class="wrap">
    <a class="brand" href="${tenant ? `/t/${tenant.id}/` : "/"}">${tenant ? tenant.displayName : "Tessera"}</a>
    ${languageSwitch(ctx)}
  </div>
</header>
<main id="main" class="wrap">
${page.body}
</main>
<footer class="site-footer"><div class="wrap">${t("site.powered_by")}</div></footer>
</body>
</html>
`;
}

function devBanner(ctx: PageContext): SafeHtml {
  const url = ctx.tenant ? `/t/${ctx.tenant.id}/dev/outbox` : "";
  const [before, after] = ctx.t("dev.banner").split("{url}");
  return html`<div class="dev-banner" role="note">${before}${url ? html`<a href="${url}">${url}</a>` : "/t/…/dev/outbox"}${after}</div>`;
}

function languageSwitch(ctx: PageContext): SafeHtml | string {
  if (ctx.locales.length < 2) return "";
  return html`<nav class="language-switch" aria-label="${ctx.t("site.language")}">
      <ul>${ctx.locales.map((l) =>
        l === ctx.locale
          ? html`<li><span aria-current="true" lang="${l}">${LOCALE_NAMES[l]}</span></li>`
          : html`<li><a href="${ctx.path}?lang=${l}" hreflang="${l}" lang="${l}">${LOCALE_NAMES[l]}</a></li>`,
      )}</ul>
    </nav>`;
}
