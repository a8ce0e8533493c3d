import type { FieldSpec } from "../../flows/flow.ts";
import type { FieldIssue } from "../../shared/errors.ts";
import { isMessageKey, type Translate } from "../../shared/i18n/translate.ts";
import { html, type SafeHtml } from "./html.ts";

/**
 * Form fields from their description (FieldSpec): label, hint and error tied to the input with
 * aria-describedby, errors marked aria-invalid. The same descriptions the JSON API returns.
 */
export interface FormState {
  errors: FieldIssue[];
  /** Values to show again after an error (never passwords). */
  values: Record<string, string>;
  t: Translate;
}

export function errorText(issue: FieldIssue, t: Translate): string {
  return isMessageKey(issue.code) ? t(issue.code, issue.params) : issue.message;
}

/** The list of errors at the top of a form, each a link to its field (GOV.UK pattern). */
export function errorSummary(state: FormState): SafeHtml | "" {
  if (state.errors.length === 0) return "";
  return html`<div class="error-summary" role="alert" tabindex="-1">
  <h2>${state.t("enrol.errors.title")}</h2>
  <ul>${state.errors.map((e) => html`<li><a href="#field-${e.field}">${errorText(e, state.t)}</a></li>`)}</ul>
</div>`;
}

/** `idPrefix` tells apart two forms on one page that share a field name. */
export function renderField(field: FieldSpec, state: FormState, idPrefix = ""): SafeHtml {
  const id = `${idPrefix}field-${field.name}`;
  const errors = state.errors.filter((e) => e.field === field.name);
  const described = [field.hint ? `${id}-hint` : "", errors.length ? `${id}-error` : ""].filter(Boolean).join(" ");
  const value = field.type === "password" ? "" : (state.values[field.name] ?? (typeof field.value === "string" ? field.value : ""));
  const hint = field.hint ? html`<p class="hint" id="${id}-hint">${field.hint}</p>` : "";
  const error = errors.length ? html`<p class="field-error" id="${id}-error">${errors.map((e) => errorText(e, state.t)).join(" ")}</p>` : "";
  const invalid = errors.length > 0 ? "true" : "false";

  switch (field.type) {
    case "radio":
      return html`<fieldset class="field${errors.length ? " has-error" : ""}" id="${id}"${described ? html` aria-describedby="${described}"` : ""}>
  <legend>${field.label}</legend>${hint}${error}
  ${(field.options ?? []).map(
    (o) => html`<div class="choice">
    <input type="radio" id="${id}-${o.value}" name="${field.name}" value="${o.value}"${o.value === value ? html` checked` : ""}${field.required ? html` required` : ""}>
    <label for="${id}-${o.value}"><strong>${o.label}</strong>${o.description ? html`<span class="choice-description">${o.description}</span>` : ""}</label>
  </div>`,
  )}
</fieldset>`;
    case "select":
      return html`<div class="field${errors.length ? " has-error" : ""}">
  <label for="${id}">${field.label}</label>${hint}${error}
  <select id="${id}" name="${field.name}"${field.required ? html` required` : ""} aria-invalid="${invalid}"${described ? html` aria-describedby="${described}"` : ""}>
    <option value="">—</option>
    ${(field.options ?? []).map((o) => html`<option value="${o.value}"${o.value === value ? html` selected` : ""}>${o.label}</option>`)}
  </select>
</div>`;
    case "checkbox": {
      const checked = state.values[field.name] !== undefined ? state.values[field.name] === "on" : field.value === true;
      return html`<div class="field checkbox${errors.length ? " has-error" : ""}">${error}
  <input type="checkbox" id="${id}" name="${field.name}" value="on"${checked ? html` checked` : ""}${field.required ? html` required` : ""} aria-invalid="${invalid}"${described ? html` aria-describedby="${described}"` : ""}>
  <label for="${id}">${field.label}</label>${hint}
</div>`;
    }
    case "textarea":
      return html`<div class="field${errors.length ? " has-error" : ""}">
  <label for="${id}">${field.label}</label>${hint}${error}
  <textarea id="${id}" name="${field.name}" rows="5"${field.required ? html` required` : ""} aria-invalid="${invalid}"${described ? html` aria-describedby="${described}"` : ""}>${value}</textarea>
</div>`;
    case "captcha":
      return html`<div class="field captcha${errors.length ? " has-error" : ""}" id="${id}" data-captcha="${JSON.stringify(field.challenge ?? {})}">
  <p class="label">${field.label}</p>${error}
  <input type="hidden" name="${field.name}" value="">
  <p class="captcha-status" aria-live="polite" data-solving="${state.t("enrol.captcha.solving")}" data-solved="${state.t("enrol.captcha.solved")}"></p>
  <noscript><p class="hint">${state.t("enrol.captcha.noscript")}</p></noscript>
</div>`;
    default: {
      const type = field.type === "code" ? "text" : field.type;
      const extra = field.type === "code" ? html` inputmode="numeric" pattern="[0-9 ]*" maxlength="12"` : "";
      const rules = field.rules?.length
        ? html`<ul class="password-rules" id="${id}-rules" aria-live="polite">${field.rules.map((r) => html`<li data-rule="${r.rule}">${r.message}</li>`)}</ul>`
        : "";
      return html`<div class="field${errors.length ? " has-error" : ""}">
  <label for="${id}">${field.label}</label>${hint}${error}
  <input type="${type}" id="${id}" name="${field.name}" value="${value}"${field.required ? html` required` : ""}${field.autocomplete ? html` autocomplete="${field.autocomplete}"` : ""}${extra} aria-invalid="${invalid}"${described || rules ? html` aria-describedby="${[described, rules ? `${id}-rules` : ""].filter(Boolean).join(" ")}"` : ""}${rules ? html` data-password-rules="${id}-rules"` : ""}>
  ${rules}
</div>`;
    }
  }
}
