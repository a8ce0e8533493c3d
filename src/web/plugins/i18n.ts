import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { LOCALES, type Locale } from "../../shared/i18n/locales.ts";
import { negotiateLocale } from "../../shared/i18n/negotiate.ts";
import { translator } from "../../shared/i18n/translate.ts";

const LANG_COOKIE = "lang";
const ONE_YEAR = 365 * 24 * 3600;

/**
 * Chooses each response's language: `?lang=` (remembered in a cookie), then the cookie, then
 * Accept-Language, among the languages on offer, else the default. Outside tenant routes every
 * catalogue is on offer with English as default; tenant routes narrow it (plugins/tenant.ts).
 */
export const i18nPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest("locale", "en");
    app.decorateRequest("t", translator("en"));
    app.decorateRequest("offeredLocales", null as unknown as readonly Locale[]);
    app.addHook("onRequest", async (request) => {
      selectLocale(request, LOCALES, "en");
    });
    // Remember an explicit choice only once the language is final (a tenant may narrow the offer).
    app.addHook("preHandler", async (request, reply) => {
      const query = (request.query as Record<string, unknown> | undefined)?.lang;
      if (query === request.locale && request.cookies[LANG_COOKIE] !== query) {
        reply.setCookie(LANG_COOKIE, request.locale, { path: "/", maxAge: ONE_YEAR, sameSite: "lax", httpOnly: true });
      }
    });
  },
  { name: "tessera-i18n", dependencies: ["@fastify/cookie"] },
);

export function selectLocale(request: FastifyRequest, offered: readonly Locale[], fallback: Locale): void {
  const locale = negotiateLocale(offered, fallback, {
    query: (request.query as Record<string, unknown> | undefined)?.lang,
    cookie: request.cookies[LANG_COOKIE],
    acceptLanguage: request.headers["accept-language"],
  });
  request.locale = locale;
  request.t = translator(locale);
  request.offeredLocales = offered;
}
