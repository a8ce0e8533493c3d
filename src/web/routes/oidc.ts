import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Interaction, InteractionResults, KoaContextWithOIDC, Provider } from "oidc-provider";
import { type CredentialDetail, detailHashes, interactionPath, type OidcPages, ROUTES } from "../../federation/oidc/configuration.ts";
import { hashOf } from "../../signing/algorithms.ts";
import { authorizeCredential, otpDestination, refusalIssue, sendSigningCode } from "../../signing/authorization.ts";
import { credentialOf } from "../../signing/credentials.ts";
import type { FormState } from "../views/form.ts";
import { signatureConsentPage } from "../views/signing.ts";
import { consentRequest, giveConsent } from "../../federation/oidc/consent.ts";
import { acrFor, requestedLevel } from "../../federation/oidc/levels.ts";
import { clientLevels } from "../../federation/oidc/policy.ts";
import { oidcProviders, type OidcProviders } from "../../federation/oidc/providers.ts";
import { findAccount } from "../../identity/accounts.ts";
import { minimumSessionLevel } from "../../identity/levels.ts";
import { revokeSession } from "../../identity/sessions.ts";
import { TesseraError } from "../../shared/errors.ts";
import { pageContext } from "../page-context.ts";
import { contentSecurityPolicy, formTarget } from "../plugins/security.ts";
import { actorOf, identityDeps, pkiDeps, type WebServices } from "../services.ts";
import { errorPage } from "../views/error-page.ts";
import type { SafeHtml } from "../views/html.ts";
import { consentPage, loggedOutPage, logoutConfirmPage, logoutForm } from "../views/oidc.ts";

type Details = Interaction;

/**
 * OpenID Connect for every tenant (federation/oidc): oidc-provider mounted under the tenant's
 * issuer, `<base-url>/t/<tenant>`, and the pages it sends end users to.
 *
 * oidc-provider is a Koa application; its requests are handed over raw (Fastify parses no body
 * there), with the public origin in X-Forwarded-Host/-Proto so that every URL it writes is the
 * issuer's whatever Host the request came with. Its user interactions come back here, at
 * `/t/<tenant>/authorize/<uid>`: sign-in is Tessera's own login flow (at the level asked for,
 * again when `prompt=login` or `max_age` say so), then the consent screen.
 */
export function oidcWeb(services: WebServices, log: FastifyBaseLogger, options: { privateNetwork: boolean }) {
  const requests = new WeakMap<IncomingMessage, FastifyRequest>();
  const requestOf = (req: IncomingMessage) => requests.get(req);

  const https = () => services.publicUrl.current.startsWith("https://");
  const page = (ctx: KoaContextWithOIDC, status: number, body: (request: FastifyRequest) => SafeHtml, formTargets: string[] = []) => {
    const request = requestOf(ctx.req);
    ctx.status = status;
    ctx.type = "html";
    ctx.set("content-security-policy", contentSecurityPolicy({ https: https(), formTargets }));
    ctx.body = request ? body(request).value : "";
  };

  const pages: OidcPages = {
    error(ctx, out) {
      page(ctx, ctx.status >= 400 ? ctx.status : 400, (request) =>
        errorPage(pageContext(request), {
          status: ctx.status,
          message: request.t("oidc.error", { error: out.error, description: out.error_description ?? "" }),
          requestId: request.id,
        }),
      );
    },
    logoutConfirm(ctx, form) {
      const parsed = logoutForm(form);
      if (!parsed) throw new TypeError("oidc-provider's logout form has changed shape");
      const client = ctx.oidc.client;
      // Confirmed, the browser goes back to the client's post-logout redirect URI.
      const back = formTarget(ctx.oidc.params?.post_logout_redirect_uri);
      page(ctx, 200, (request) => logoutConfirmPage(pageContext(request), { ...parsed, clientName: client?.clientName ?? undefined }), back);
    },
    loggedOut(ctx) {
      const client = ctx.oidc.client;
      page(ctx, 200, (request) => loggedOutPage(pageContext(request), { clientName: client?.clientName ?? undefined }));
    },
  };

  const providers: OidcProviders = oidcProviders({
    deps: identityDeps(services),
    publicUrl: services.publicUrl,
    pages,
    sessionOf: (req) => requestOf(req)?.session ?? undefined,
    async endSession(req) {
      const request = requestOf(req);
      if (!request?.session) return;
      const deps = identityDeps(services);
      const account = await findAccount(deps, request.tenant!, request.session.accountId);
      if (account) await revokeSession(deps, request.tenant!, account, request.session.id, actorOf(request));
    },
    log,
    privateNetwork: options.privateNetwork,
  });

  /** Hands a request to the tenant's provider, as if it were mounted at the issuer's path. */
  async function mount(request: FastifyRequest, reply: FastifyReply) {
    const tenant = request.tenant!;
    const handler = await providers.handlerFor(tenant);
    const req = request.raw;
    const base = new URL(services.publicUrl.current);
    for (const name of Object.keys(req.headers)) if (name.startsWith("x-forwarded-")) delete req.headers[name];
    req.headers["x-forwarded-host"] = base.host;
    req.headers["x-forwarded-proto"] = base.protocol.slice(0, -1);
    req.headers["x-forwarded-for"] = request.ip;
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
    req.url = req.url!.slice(`/t/${tenant.id}`.length) || "/";
    requests.set(req, request);
    const res = reply.raw;
    res.setHeader("x-request-id", request.id);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "same-origin");
    reply.hijack();
    await new Promise<void>((resolve) => {
      res.once("close", resolve);
      void handler(req, res);
    });
  }

  async function interaction(request: FastifyRequest, reply: FastifyReply, provider: Provider): Promise<Details> {
    try {
      const details = await provider.interactionDetails(request.raw, reply.raw);
      if (details.uid !== (request.params as { uid: string }).uid) throw new Error("another interaction");
      return details;
    } catch {
      throw new TesseraError("oidc.interaction_expired", "no such sign-in request in this browser", { status: 400 });
    }
  }

  const sealSince = (uid: string, since: number) => `${since}.${services.secrets.mac(`oidc-since:${uid}:${since}`)}`;
  const openSince = (uid: string, query: Record<string, unknown>): number | undefined => {
    const [time, mac] = typeof query.since === "string" ? query.since.split(".") : [];
    if (!time || !mac) return undefined;
    const expected = Buffer.from(services.secrets.mac(`oidc-since:${uid}:${time}`));
    return mac.length === expected.length && timingSafeEqual(Buffer.from(mac), expected) ? Number(time) : undefined;
  };

  /** Hands the outcome back to oidc-provider, which carries on with the authorization request. */
  async function finish(request: FastifyRequest, reply: FastifyReply, provider: Provider, result: InteractionResults, merge = false) {
    const returnTo = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge });
    return reply.redirect(returnTo, 303);
  }

  /** The `credential` authorization details an interaction asks the holder to authorise. */
  const credentialDetailsOf = (details: Interaction): CredentialDetail[] =>
    ((details.prompt.details as { rar?: { type: string }[] }).rar ?? []).filter((d): d is CredentialDetail => d.type === "credential");

  async function signingCodeDestination(request: FastifyRequest): Promise<string | null> {
    const account = request.session ? await findAccount(identityDeps(services), request.tenant!, request.session.accountId) : undefined;
    return account ? otpDestination(account) : null;
  }

  /** The page that asks the holder to authorise a signature, with its certificate and documents. */
  async function signatureConsent(request: FastifyRequest, reply: FastifyReply, details: Interaction, clientName: string, state: FormState, notice?: string, status = 200) {
    const tenant = request.tenant!;
    const deps = pkiDeps(services);
    const signing = credentialDetailsOf(details);
    if (signing.length !== 1) return finish(request, reply, await providers.forTenant(tenant), { error: "invalid_authorization_details", error_description: request.t("signing.consent.one_credential") });
    const detail = signing[0]!;
    const account = (await findAccount(deps, tenant, request.session!.accountId))!;
    let organization: string;
    try {
      organization = (await credentialOf(deps, tenant, account, detail.credentialID)).organization.name;
    } catch {
      return finish(request, reply, await providers.forTenant(tenant), { error: "invalid_authorization_details", error_description: "no such credential for this signer" });
    }
    const here = `/t/${tenant.id}/authorize/${details.uid}`;
    const labels = (detail.documentDigests ?? []).map((d) => d.label).filter((l): l is string => Boolean(l));
    return reply
      .code(status)
      .type("text/html; charset=utf-8")
      .allowFormTargets(formTarget(details.params.redirect_uri))
      .send(signatureConsentPage(pageContext(request), { action: `${here}/consent`, codeAction: `${here}/signing-code`, clientName, organization, labels, count: detailHashes(detail).length, state, notice }).value);
  }

  /** credentials/authorize, on the holder's page: the SAD joins the detail the access token will carry. */
  async function authoriseDetail(request: FastifyRequest, details: Interaction, signing: CredentialDetail[], password: string, code: string): Promise<CredentialDetail & { sad: string }> {
    const tenant = request.tenant!;
    const deps = { ...pkiDeps(services), attempts: services.attempts };
    const detail = signing[0]!;
    const account = (await findAccount(deps, tenant, request.session!.accountId))!;
    const credential = await credentialOf(deps, tenant, account, detail.credentialID);
    const { sad } = await authorizeCredential(
      deps,
      tenant,
      account,
      credential,
      { pin: password, otp: code, hashes: detailHashes(detail), hashAlgorithm: hashOf(detail.hashAlgorithmOID ?? "2.16.840.1.101.3.4.2.1"), numSignatures: detail.numSignatures, clientId: details.params.client_id as string, ip: request.ip },
      actorOf(request),
    );
    return { ...detail, sad };
  }

  const CSC_OAUTH2_ALIASES: Record<string, string> = { authorize: ROUTES.authorization, token: ROUTES.token, revoke: ROUTES.revocation };

  const plugin = async (app: FastifyInstance) => {
    // oidc-provider reads its request bodies itself.
    await app.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser("*", (_request, _payload, done) => done(null));
      raw.all("/oidc/*", mount);
      raw.get("/.well-known/openid-configuration", mount);
      // CSC API clients find the authorization server's endpoints at `<oauth2>/oauth2/authorize`,
      // `…/token` and `…/revoke` (CSC API v2 §8): the provider's own, under those names too.
      raw.all<{ Params: { endpoint: string } }>("/oauth2/:endpoint", async (request, reply) => {
        const path = CSC_OAUTH2_ALIASES[request.params.endpoint];
        if (!path) throw new TesseraError("http.not_found", "not found", { status: 404 });
        request.raw.url = request.raw.url!.replace(`/oauth2/${request.params.endpoint}`, path);
        return mount(request, reply);
      });
    });

    /**
     * An interaction: sign in (at the level asked for; anew if `prompt=login` or `max_age` ask
     * for a fresher sign-in than this browser's), or consent.
     */
    app.get<{ Params: { uid: string }; Querystring: { since?: string; notice?: string } }>("/authorize/:uid", async (request, reply) => {
      const tenant = request.tenant!;
      const provider = await providers.forTenant(tenant);
      const details = await interaction(request, reply, provider);
      const client = await provider.Client.find(details.params.client_id as string);
      if (!client) throw new TesseraError("oidc.interaction_expired", "the client is gone", { status: 400 });
      const here = `/t/${tenant.id}/authorize/${details.uid}`;

      if (details.prompt.name === "login") {
        const claims = typeof details.params.claims === "string" ? (JSON.parse(details.params.claims) as { id_token?: { acr?: object } }) : undefined;
        const decision = requestedLevel({ acrValues: details.params.acr_values as string | undefined, acrClaim: claims?.id_token?.acr }, clientLevels(client));
        if (!decision.ok) return finish(request, reply, provider, { error: "access_denied", error_description: "the requested authentication level is not available" });
        const reasons = details.prompt.reasons;
        const now = services.clock.now();
        // prompt=login (or the virtual card's client, policy.ts): a sign-in after this page first
        // sent the browser to sign in, a moment it signs into the way back (so that editing the
        // URL cannot skip the new sign-in).
        const forced = reasons.includes("login_prompt") || reasons.includes("native_client_login");
        const since = forced ? openSince(details.uid, request.query) : undefined;
        const maxAge = details.params.max_age === undefined ? undefined : Number(details.params.max_age);
        const freshSince = Math.max(
          forced ? (since ?? Number.POSITIVE_INFINITY) : 0,
          maxAge !== undefined && Number.isFinite(maxAge) ? now - maxAge * 1000 : 0,
        );
        const session = request.session;
        // Where two factors are mandatory no relying party gets a session with fewer.
        const level = Math.max(decision.level, minimumSessionLevel(tenant));
        if (session && session.level >= level && session.authenticatedAt >= freshSince) {
          return finish(request, reply, provider, {
            login: {
              accountId: session.accountId,
              acr: acrFor(session.level, decision.essential),
              amr: session.amr,
              ts: Math.floor(session.authenticatedAt / 1000),
              // The provider's cookie ends with the browser, like Tessera's own session.
              remember: false,
            },
          });
        }
        const back = forced ? `${here}?since=${sealSince(details.uid, since ?? now)}` : here;
        const query = new URLSearchParams({ level: String(level), return_to: back });
        return reply.redirect(`/t/${tenant.id}/login?${query.toString()}`, 303);
      }

      if (details.prompt.name === "consent") {
        if (!request.session || request.session.accountId !== details.session?.accountId) return reply.redirect(`/t/${tenant.id}/login?return_to=${encodeURIComponent(here)}`, 303);
        const signing = credentialDetailsOf(details);
        if (signing.length > 0) {
          const notice = request.query.notice === "sent" ? request.t("signing.code_sent", { to: (await signingCodeDestination(request)) ?? "" }) : undefined;
          return signatureConsent(request, reply, details, client.clientName ?? client.clientId, { errors: [], values: {}, t: request.t }, notice);
        }
        const allowed = client.tessera_claims as string[] | undefined;
        return reply
          .type("text/html; charset=utf-8")
          .allowFormTargets(formTarget(details.params.redirect_uri))
          .send(consentPage(pageContext(request), { action: `${here}/consent`, clientName: client.clientName ?? client.clientId, request: consentRequest(details, allowed) }).value);
      }
      throw new TesseraError("oidc.interaction_expired", `unexpected prompt ${details.prompt.name}`, { status: 400 });
    });

    app.post<{ Params: { uid: string } }>("/authorize/:uid/consent", async (request, reply) => {
      const tenant = request.tenant!;
      const provider = await providers.forTenant(tenant);
      const details = await interaction(request, reply, provider);
      const accountId = details.session?.accountId;
      if (details.prompt.name !== "consent" || !accountId || request.session?.accountId !== accountId) {
        throw new TesseraError("oidc.interaction_expired", "not a consent this session can give", { status: 400 });
      }
      const body = (request.body ?? {}) as { decision?: unknown; password?: unknown; code?: unknown };
      if (body.decision !== "allow") {
        return finish(request, reply, provider, { error: "access_denied", error_description: "the end user refused consent" });
      }
      // A signature (the `credential` scope): authorised here with the password and the code.
      const signing = credentialDetailsOf(details);
      let rar: CredentialDetail[] | undefined;
      if (signing.length > 0) {
        const client = await provider.Client.find(details.params.client_id as string);
        try {
          rar = [await authoriseDetail(request, details, signing, typeof body.password === "string" ? body.password : "", typeof body.code === "string" ? body.code : "")];
        } catch (error) {
          if (!(error instanceof TesseraError) || error.status >= 500) throw error;
          return signatureConsent(request, reply, details, client?.clientName ?? client?.clientId ?? "", { errors: [refusalIssue(request.t, error)], values: {}, t: request.t }, undefined, 400);
        }
      }
      const grantId = await giveConsent(identityDeps(services), tenant, provider, details, accountId, actorOf(request), rar);
      return finish(request, reply, provider, { consent: { grantId } }, true);
    });

    /** The code that authorises a signature asked for through the `credential` scope. */
    app.post<{ Params: { uid: string } }>("/authorize/:uid/signing-code", async (request, reply) => {
      const tenant = request.tenant!;
      const provider = await providers.forTenant(tenant);
      const details = await interaction(request, reply, provider);
      const signing = credentialDetailsOf(details);
      if (details.prompt.name !== "consent" || signing.length !== 1 || request.session?.accountId !== details.session?.accountId) {
        throw new TesseraError("oidc.interaction_expired", "no signature to authorise here", { status: 400 });
      }
      const deps = pkiDeps(services);
      const account = (await findAccount(deps, tenant, request.session!.accountId))!;
      await sendSigningCode(deps, tenant, account, await credentialOf(deps, tenant, account, signing[0]!.credentialID), request.locale);
      return reply.redirect(`/t/${tenant.id}/authorize/${details.uid}?notice=sent`, 303);
    });

    /** The end user gives up (say, they cannot reach the level asked for): the client is told. */
    app.post<{ Params: { uid: string } }>("/authorize/:uid/abort", async (request, reply) => {
      const provider = await providers.forTenant(request.tenant!);
      await interaction(request, reply, provider);
      return finish(request, reply, provider, { error: "access_denied", error_description: "the end user cancelled the sign-in" });
    });
  };

  /**
   * Where a sign-in that comes back to `returnTo` may end: at the redirect URI of the relying
   * party whose interaction it is (the login pages' Content-Security-Policy names its origin).
   */
  async function formTargetsOf(request: FastifyRequest, returnTo: string | undefined): Promise<string[]> {
    const prefix = interactionPath(request.tenant!.id, "");
    const uid = returnTo?.startsWith(prefix) ? returnTo.slice(prefix.length).split("?")[0] : undefined;
    if (!uid) return [];
    const provider = await providers.forTenant(request.tenant!);
    const found = await provider.Interaction.find(uid);
    return formTarget(found?.params.redirect_uri);
  }

  return {
    providers,
    plugin,
    formTargetsOf,
    /** Signing out of Tessera signs out of the provider too (back-channel logout to its clients). */
    signOut: async (request: FastifyRequest, reply: FastifyReply) => {
      await providers.endBrowserSession(request.tenant!, request.raw, reply.raw);
      for (const name of providers.cookieNames) reply.clearCookie(name, { path: `/t/${request.tenant!.id}/` });
    },
  };
}

export type OidcWeb = ReturnType<typeof oidcWeb>;
