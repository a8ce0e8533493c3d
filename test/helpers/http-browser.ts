/**
 * A browser without a screen: plain HTTP with a cookie jar, following redirects by hand, reading
 * forms out of the HTML it gets. It drives Tessera's real pages the way a person's browser posts
 * them (same-origin forms with Origin set), and stops at the first URL outside `origin`, where a
 * relying party would take over.
 */
export interface Page {
  url: string;
  status: number;
  html: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export interface FormOnPage {
  action: string;
  fields: Record<string, string>;
}

const unescape = (s: string) => s.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");

export function httpBrowser(origin: string, options: { acceptLanguage?: string } = {}) {
  const jar = new Map<string, Cookie>();

  const cookieHeader = (url: string) => {
    const path = new URL(url).pathname;
    return [...jar.values()]
      .filter((c) => path.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  };

  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";").map((s) => s.trim());
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
      const key = `${name}|${path}`;
      if (value === "" || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0\b/i.test(line)) jar.delete(key);
      else jar.set(key, { name, value, path });
    }
  };

  return {
    cookies: jar,
    /** The Cookie header this browser sends to `url`. */
    cookieHeader,

    /** Requests `url`, following redirects inside `origin`; returns the page, or the URL it left for. */
    async go(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
      let current = new URL(url, origin).href;
      let method = init.method ?? (init.form ? "POST" : "GET");
      let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
      for (let hops = 0; hops < 20; hops++) {
        if (new URL(current).origin !== origin) return { url: current, status: 0, html: "" };
        const res = await fetch(current, {
          method,
          redirect: "manual",
          headers: {
            cookie: cookieHeader(current),
            "accept-language": options.acceptLanguage ?? "en",
            accept: "text/html",
            ...(method === "POST" ? { origin, "content-type": "application/x-www-form-urlencoded" } : {}),
          },
          ...(body !== undefined ? { body } : {}),
        });
        remember(res);
        if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
          current = new URL(res.headers.get("location")!, current).href;
          method = "GET";
          body = undefined;
          continue;
        }
        return { url: current, status: res.status, html: await res.text() };
      }
      throw new Error(`too many redirects from ${url}`);
    },

    /** The forms of a page with their hidden and pre-filled fields. */
    forms(page: Page): FormOnPage[] {
      return [...page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map((m) => {
        const action = unescape(/action="([^"]*)"/.exec(m[1]!)?.[1] ?? page.url);
        const fields: Record<string, string> = {};
        for (const input of m[2]!.matchAll(/<input\b([^>]*)>/g)) {
          const name = /name="([^"]*)"/.exec(input[1]!)?.[1];
          const value = /value="([^"]*)"/.exec(input[1]!)?.[1];
          if (name && value !== undefined) fields[name] = unescape(value);
        }
        return { action: new URL(action, page.url).href, fields };
      });
    },

    /** Fills in and posts the first form whose action matches `action`. */
    async submit(page: Page, action: RegExp, values: Record<string, string>): Promise<Page> {
      const form = this.forms(page).find((f) => action.test(f.action));
      if (!form) throw new Error(`no form posting to ${action} on ${page.url}:\n${page.html.slice(0, 2000)}`);
      return this.go(form.action, { form: { ...form.fields, ...values } });
    },
  };
}

export type HttpBrowser = ReturnType<typeof httpBrowser>;
