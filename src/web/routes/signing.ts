import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createFlow } from "../../flows/engine.ts";
import type { Flow } from "../../flows/flow.ts";
import type { SigningData } from "../../flows/signing/data.ts";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { isMessageKey } from "../../shared/i18n/translate.ts";
import { TesseraError } from "../../shared/errors.ts";
import { credentialsOf } from "../../signing/credentials.ts";
import { browserFlows, type Form, html } from "../browser-flows.ts";
import type { FlowRegistry } from "../flows.ts";
import { readMultipart } from "../multipart.ts";
import { pageContext } from "../page-context.ts";
import { needsLevel } from "../plugins/session.ts";
import { identityDeps, pkiDeps, type WebServices } from "../services.ts";
import type { FormState } from "../views/form.ts";
import { signingAuthorisePage, signingDonePage, signingStartPage } from "../views/signing.ts";

/**
 * The panel's signing page, `/t/<tenant>/account/sign` (tenants with `signing.enabled`): a
 * professional, signed in, uploads a PDF, picks the certificate, and signs it with the password
 * and a code (a `signing` flow, bound to this browser and to the session's account); the signed
 * PDF is downloaded from the last page while the flow lives. The access history lists it.
 */
export function signingRoutes(services: WebServices, registry: FlowRegistry) {
  const flows = browserFlows(services, registry, "signing", "account/sign");
  const deps = pkiDeps(services);
  const holder = async (request: FastifyRequest): Promise<Account> => (await findAccount(identityDeps(services), request.tenant!, request.session!.accountId))!;
  const signable = async (request: FastifyRequest) => (await credentialsOf(deps, request.tenant!, await holder(request))).filter((c) => c.status === "valid" && c.key.destroyed_at === null);

  /** This browser's flow, and this account's: anyone else's is none. */
  async function owned(request: FastifyRequest, id: string): Promise<Flow<SigningData>> {
    const flow = await flows.load(request, id);
    if (!flows.boundHere(request, flow) || flow.accountId !== request.session!.accountId) throw new TesseraError("flow.not_found", "no such signature here", { status: 404 });
    return flow;
  }

  async function start(request: FastifyRequest, reply: FastifyReply, state: FormState) {
    return html(reply, state.errors.length ? 400 : 200, signingStartPage(pageContext(request), request.tenant!, await signable(request), state));
  }

  async function authorisePage(request: FastifyRequest, reply: FastifyReply, flow: Flow<SigningData>, state: FormState, notice?: string) {
    if (flow.state !== "active") return html(reply, 200, signingDonePage(pageContext(request), request.tenant!, flow));
    const credential = (await signable(request)).find((c) => c.id === flow.data.credential);
    const fields = await flows.definition(request).steps.authorise!.fields({ tenant: request.tenant!, flow, locale: request.locale, t: request.t, deps: identityDeps(services) });
    return html(reply, state.errors.length ? 400 : 200, signingAuthorisePage(pageContext(request), request.tenant!, flow, credential?.organization.name ?? "", fields, state, notice));
  }

  return async (app: FastifyInstance) => {
    app.addHook("preHandler", needsLevel(2));

    app.get("/", async (request, reply) => start(request, reply, flows.formState(request)));

    app.post("/", async (request, reply) => {
      const form = await readMultipart(request);
      const credential = typeof form.fields.credential === "string" ? form.fields.credential : "";
      const file = form.files.file;
      const fieldsOf = { credential };
      if (!file) return start(request, reply, flows.formState(request, [{ field: "file", code: "signing.not_pdf", message: request.t("signing.not_pdf", { max: 10 }) }], fieldsOf));
      const flow = await createFlow(services, request.tenant!, flows.definition(request), "browser", {}, { accountId: request.session!.accountId });
      const result = await flows.submit(request, flow.id, "document", { credential, name: form.filenames.file || "document.pdf", content: file.toString("base64") }, { csrfToken: flow.csrfToken });
      if (result.outcome.type === "reject") {
        await services.store.repos.flows.delete(flow.id);
        return start(request, reply, flows.formState(request, result.outcome.errors, fieldsOf));
      }
      flows.bind(reply, request, result.flow);
      return reply.redirect(`${flows.base(request)}/${flow.id}?notice=signing.code_sent`, 303);
    });

    app.get<{ Params: { id: string }; Querystring: { notice?: string } }>("/:id", async (request, reply) => {
      const flow = await owned(request, request.params.id);
      const notice = request.query.notice === "signing.code_sent" && flow.data.sentTo ? request.t("signing.code_sent", { to: flow.data.sentTo }) : undefined;
      return authorisePage(request, reply, flow, flows.formState(request), notice);
    });

    app.post<{ Params: { id: string } }>("/:id", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await owned(request, request.params.id);
      const { csrf_token, step, ...input } = form;
      const result = await flows.submit(request, flow.id, String(step ?? ""), input, { csrfToken: typeof csrf_token === "string" ? csrf_token : undefined });
      const outcome = result.outcome;
      if (outcome.type === "reject") return authorisePage(request, reply, result.flow, flows.formState(request, outcome.errors, form));
      const notice = "notice" in outcome && outcome.notice && isMessageKey(outcome.notice.code) ? `?notice=${encodeURIComponent(outcome.notice.code)}` : "";
      return reply.redirect(`${flows.base(request)}/${flow.id}${notice}`, 303);
    });

    app.get<{ Params: { id: string } }>("/:id/signed.pdf", async (request, reply) => {
      const flow = await owned(request, request.params.id);
      if (flow.state !== "complete" || !flow.data.signed) throw new TesseraError("flow.not_found", "nothing signed here yet", { status: 404 });
      const name = flow.data.document!.name.replace(/\.pdf$/i, "").replace(/[^\w.-]+/g, "_");
      return reply.type("application/pdf").header("content-disposition", `attachment; filename="${name}-signed.pdf"`).send(Buffer.from(flow.data.signed, "base64"));
    });
  };
}
