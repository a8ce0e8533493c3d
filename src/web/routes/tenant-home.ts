import type { FastifyInstance } from "fastify";
import { pageContext } from "../page-context.ts";
import { tenantHomePage } from "../views/tenant-home.ts";

/** A tenant's home page and its colours (a stylesheet, since the CSP forbids inline styles). */
export async function tenantHomeRoutes(app: FastifyInstance) {
  app.get("/", async (request, reply) => {
    const tenant = request.tenant!;
    return reply.type("text/html; charset=utf-8").send(tenantHomePage(pageContext(request), tenant).value);
  });

  app.get("/theme.css", async (request, reply) => {
    const { primaryColor } = request.tenant!.branding;
    return reply
      .type("text/css; charset=utf-8")
      .header("cache-control", "public, max-age=300")
      .send(`:root{--brand:${primaryColor};--brand-contrast:${contrastingText(primaryColor)}}\n`);
  });
}

/** Black or white, whichever contrasts more with the colour (WCAG 2 relative luminance). */
export function contrastingText(hex: string): string {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // Contrast with white is 1.05/(L+0.05), with black (L+0.05)/0.05; white wins below L≈0.179.
  return luminance > 0.179 ? "#000000" : "#ffffff";
}
