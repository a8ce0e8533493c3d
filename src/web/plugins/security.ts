import helmet from "@fastify/helmet";
import type { FastifyInstance, FastifyReply } from "fastify";
import fp from "fastify-plugin";

/**
 * Security headers on every response. The CSP allows nothing inline (no inline scripts, no style
 * attributes): pages load script and style from this origin only. HSTS and upgrade-insecure-requests
 * only when the public URL is https, or a plain-http deployment (development) would break itself.
 * Dynamic responses are not cached unless a route says otherwise.
 */
const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * The policy as a header value: for responses Fastify does not send (oidc-provider's pages), and
 * for pages whose forms lead on to a relying party. Browsers apply `form-action` to every redirect
 * that follows a form's submission, so a sign-in or consent that ends at the client's redirect URI
 * must name that origin; only the one client's, only on those pages.
 */
export function contentSecurityPolicy(options: { https: boolean; formTargets?: readonly string[] }): string {
  const directives: Record<string, string[]> = { ...CSP_DIRECTIVES, formAction: [...CSP_DIRECTIVES.formAction, ...(options.formTargets ?? [])] };
  if (options.https) directives.upgradeInsecureRequests = [];
  return Object.entries(directives)
    .map(([name, values]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...values].join(" "))
    .join(";");
}

/** The origin of a URL a form's answer may redirect to, when it is one a browser can go to. */
export function formTarget(url: unknown): string[] {
  if (typeof url !== "string") return [];
  try {
    const { protocol, origin } = new URL(url);
    return protocol === "https:" || protocol === "http:" ? [origin] : [];
  } catch {
    return [];
  }
}

declare module "fastify" {
  interface FastifyReply {
    /** Lets this page's forms lead on to `origins` (a relying party's), beside this origin. */
    allowFormTargets(origins: readonly string[]): FastifyReply;
  }
}

export const securityPlugin = fp(
  async (app: FastifyInstance, options: { https: boolean }) => {
    // The CSP is ours rather than helmet's, so that one function writes every policy Tessera sends.
    const policy = contentSecurityPolicy({ https: options.https });
    app.addHook("onRequest", async (_request, reply) => {
      reply.header("content-security-policy", policy);
    });
    app.decorateReply("allowFormTargets", function (this: FastifyReply, origins: readonly string[]) {
      if (origins.length > 0) this.header("content-security-policy", contentSecurityPolicy({ https: options.https, formTargets: origins }));
      return this;
    });
    await app.register(helmet, {
      contentSecurityPolicy: false,
      strictTransportSecurity: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      // Nothing leaves for other sites; our own pages keep it, because under `no-referrer` browsers
      // send `Origin: null` on form posts, and the session's CSRF check needs the real origin.
      referrerPolicy: { policy: "same-origin" },
    });
    app.addHook("onSend", async (_request, reply, payload) => {
      if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
      return payload;
    });
  },
  { name: "tessera-security" },
);
