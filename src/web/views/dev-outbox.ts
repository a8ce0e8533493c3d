import type { DevMessage } from "../routes/dev-outbox.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

export function devOutboxPage(ctx: PageContext, messages: DevMessage[]): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t("dev.outbox.title"),
    body: html`<h1>${t("dev.outbox.title")}</h1>
${
  messages.length === 0
    ? html`<p>${t("dev.outbox.empty")}</p>`
    : html`<table class="outbox">
<thead><tr><th scope="col">${t("dev.outbox.time")}</th><th scope="col">${t("dev.outbox.channel")}</th><th scope="col">${t("dev.outbox.to")}</th><th scope="col">${t("dev.outbox.status")}</th><th scope="col">${t("dev.outbox.message")}</th></tr></thead>
<tbody>${messages.map(
        (m) => html`<tr><td><time datetime="${m.created_at}">${m.created_at.replace("T", " ").slice(0, 19)}</time></td><td>${m.channel}</td><td>${m.to}</td><td>${m.status}</td><td>${m.subject ? html`<strong>${m.subject}</strong><br>` : ""}<pre>${m.text ?? ""}</pre></td></tr>`,
      )}</tbody>
</table>`
}`,
  });
}
