import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

export function errorPage(ctx: PageContext, error: { status: number; message: string; requestId: string }): SafeHtml {
  const home = ctx.tenant ? `/t/${ctx.tenant.id}/` : "/";
  return layout(ctx, {
    title: `${ctx.t("error.title")} (${error.status})`,
    body: html`<section class="error" role="alert">
  <h1>${ctx.t("error.title")}</h1>
  <p>${error.message}</p>
  <p class="reference">${ctx.t("error.reference", { requestId: error.requestId })}</p>
  <p><a href="${home}">${ctx.t("error.home")}</a></p>
</section>`,
  });
}
