import { describe, expect, it } from "vitest";
import { escapeHtml, html } from "./html.ts";

describe("html templates", () => {
  it("escapes every interpolated string", () => {
    const evil = `<script>alert("x")</script>&'`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      "<p title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>",
    );
  });

  it("nests templates without double escaping, and joins arrays", () => {
    const items = ["a&b", "<c>"].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>`.value).toBe("<ul><li>a&amp;b</li><li>&lt;c&gt;</li></ul>");
  });

  it("renders nothing for null, undefined and false, and numbers as text", () => {
    expect(html`[${null}${undefined}${false}${0}${true}]`.value).toBe("[0true]");
  });

  it("escapes all five significant characters", () => {
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;");
  });
});
