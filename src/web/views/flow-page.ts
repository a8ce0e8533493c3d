import type { FieldSpec } from "../../flows/flow.ts";
import { errorSummary, type FormState, renderField } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

export interface FlowForm {
  action: string;
  hidden: Record<string, string>;
  fields: FieldSpec[];
  submit: string;
  idPrefix?: string;
}

/** A form posting to a flow: hidden fields (CSRF token, step), its fields, one button. */
export function flowForm(form: FlowForm, state: FormState): SafeHtml {
  return html`<form method="post" action="${form.action}" class="flow-form" novalidate>
${Object.entries(form.hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
${form.fields.map((f) => renderField(f, state, form.idPrefix))}
<button type="submit" class="button primary">${form.submit}</button>
</form>`;
}

/** A page of a flow: heading, an optional notice and introduction, errors, then the content. */
export function flowPage(
  ctx: PageContext,
  page: { title: string; intro?: string | undefined; notice?: string | undefined; state: FormState; content: SafeHtml; scripts?: string[]; flowId?: string },
): SafeHtml {
  return layout(ctx, {
    title: page.title,
    ...(page.scripts ? { scripts: page.scripts } : {}),
    body: html`<h1>${page.title}</h1>
${page.notice ? html`<div class="notice" role="status">${page.notice}</div>` : ""}
${page.intro ? html`<p>${page.intro}</p>` : ""}
${errorSummary(page.state)}
<div${page.flowId ? html` data-flow="${page.flowId}"` : ""}>${page.content}</div>`,
  });
}
