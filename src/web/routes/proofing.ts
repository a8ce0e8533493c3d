import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { latestCase, openCase, type ProofingCase } from "../../flows/proofing/cases.ts";
import { ChipUpload, proofByCie } from "../../flows/proofing/cie.ts";
import { contractFor, submitSignedContract } from "../../flows/proofing/signature.ts";
import { availableSlots, bookVideo } from "../../flows/proofing/video.ts";
import { IDENTIFICATION_METHODS } from "../../tenants/policy.ts";
import { TesseraError } from "../../shared/errors.ts";
import { needsLevel } from "../plugins/session.ts";
import { actorOf, pkiDeps, tenantUrl, type WebServices } from "../services.ts";
import { mtlsTicket } from "../mtls.ts";
import { parseBody } from "../validate.ts";
import { readMultipart } from "../multipart.ts";
import type { ApplicantView } from "../views/proofing.ts";

const MethodChoice = z.object({ method: z.enum(IDENTIFICATION_METHODS), point: z.string().max(40).optional() }).strict();
const Slot = z.object({ slot: z.coerce.number().int().positive() }).strict();

/** What the panel shows of an applicant's request (views/proofing.ts). */
export async function applicantView(services: WebServices, request: FastifyRequest, account: Account): Promise<ApplicantView> {
  const deps = pkiDeps(services);
  const proofing = await latestCase(deps, request.tenant!, account.id);
  const slots = proofing?.state === "pending" && proofing.method === "video" ? await availableSlots(deps, request.tenant!) : [];
  return { proofing, slots, cnsUrl: services.mtlsUrl };
}

/** The applicant's own account, awaiting proofing: what every action here needs. */
async function applicantOf(services: WebServices, request: FastifyRequest): Promise<Account> {
  const account = await findAccount(pkiDeps(services), request.tenant!, request.session!.accountId);
  if (!account || account.state !== "awaiting_proofing") throw new TesseraError("proofing.not_awaiting", "this identity is not awaiting proofing", { status: 409 });
  return account;
}

const links = (services: WebServices, request: FastifyRequest) => ({ accountUrl: `${tenantUrl(services, request.tenant!)}/account` });

/** A case as the API shows it. */
function caseJson(proofing: ProofingCase | undefined, t: FastifyRequest["t"]) {
  if (!proofing) return { state: "none" };
  return {
    request: proofing.request,
    method: proofing.method,
    point: proofing.point,
    state: proofing.state,
    booked_at: proofing.bookedAt === null ? null : new Date(proofing.bookedAt).toISOString(),
    ...(proofing.state === "rejected" && proofing.reason
      ? { reason: proofing.reason, reason_description: t(`proofing.reason.${proofing.reason}`), next_steps: t(`proofing.next.${proofing.reason}`) }
      : {}),
  };
}

/**
 * The applicant's side of identity proofing, from the self-service panel (`/account/proofing/…`):
 * another method, a video booking, the contract to download, the signed contract to upload, the
 * way to the CNS endpoint. Each answers with the panel again and a notice, or with the panel and
 * the reason when it is refused.
 */
export function proofingRoutes(services: WebServices) {
  const deps = pkiDeps(services);
  const panel = (request: FastifyRequest, notice: string) => `/t/${request.tenant!.id}/account?notice=${notice}`;
  /** An action's refusal shown on the panel, in words: the reason and what to do next. */
  const refusedTo = (request: FastifyRequest, error: unknown): string => {
    if (error instanceof TesseraError && error.status < 500) {
      const reason = typeof error.params.reason === "string" ? error.params.reason : undefined;
      return `/t/${request.tenant!.id}/account?${reason ? `refused=${encodeURIComponent(reason)}` : `error=${encodeURIComponent(error.code)}`}`;
    }
    throw error;
  };

  return async (app: FastifyInstance) => {
    app.addHook("preHandler", needsLevel(1));

    app.post("/method", async (request, reply) => {
      const { method, point } = parseBody(MethodChoice, request.body);
      const account = await applicantOf(services, request);
      const latest = await latestCase(deps, request.tenant!, account.id);
      if (latest?.state === "awaiting_confirmation") throw new TesseraError("proofing.decided", "your identification is being confirmed", { status: 409 });
      await openCase(deps, request.tenant!, account, { request: latest?.request ?? account.id.slice(0, 10).toUpperCase(), method, point: point || null }, actorOf(request));
      return reply.redirect(panel(request, "proofing.method_changed"), 303);
    });

    app.post("/video", async (request, reply) => {
      const { slot } = parseBody(Slot, request.body);
      try {
        await bookVideo(deps, request.tenant!, await applicantOf(services, request), slot, actorOf(request));
      } catch (error) {
        return reply.redirect(refusedTo(request, error), 303);
      }
      return reply.redirect(panel(request, "proofing.video.booked_notice"), 303);
    });

    app.get("/contract.pdf", async (request, reply) => {
      const pdf = await contractFor(deps, request.tenant!, await applicantOf(services, request), actorOf(request));
      return reply.type("application/pdf").header("content-disposition", 'attachment; filename="contratto.pdf"').send(pdf);
    });

    app.post("/signed", async (request, reply) => {
      const form = await readMultipart(request);
      const file = form.files.file;
      if (!file) throw new TesseraError("proofing.upload_missing", "choose the signed file", { params: { field: "file" } });
      try {
        await submitSignedContract(deps, request.tenant!, await applicantOf(services, request), file, actorOf(request), links(services, request));
      } catch (error) {
        return reply.redirect(refusedTo(request, error), 303);
      }
      return reply.redirect(panel(request, "proofing.approved"), 303);
    });

    // The way to the mutual-TLS endpoint, with a ticket: the browser crosses to another origin there.
    app.get("/cns", async (request, reply) => {
      if (!services.mtlsUrl) throw new TesseraError("proofing.cns_unavailable", "CNS identification is not available on this server", { status: 404 });
      const account = await applicantOf(services, request);
      const ticket = mtlsTicket(deps, request.tenant!, "cns", account.id);
      return reply.redirect(`${services.mtlsUrl}/t/${request.tenant!.id}/proofing/cns?ticket=${encodeURIComponent(ticket)}`, 303);
    });
  };
}

/**
 * The same for apps, as JSON with the session's Bearer token (`/api/proofing/…`): the request's
 * state; the CIE chip's data groups and SOD read by the mobile app over NFC; the signed contract.
 * A refusal is `422 {"error": "proofing_refused", "reason", "error_description", "next_steps"}`.
 */
export function proofingApiRoutes(services: WebServices) {
  const deps = pkiDeps(services);
  const stateOf = async (request: FastifyRequest, account: Account) => caseJson(await latestCase(deps, request.tenant!, account.id), request.t);
  const answer = async (request: FastifyRequest, reply: FastifyReply, account: Account, state: string) =>
    reply.send({ ...(await stateOf(request, account)), state, ...(state === "approved" ? { spid_code: (await findAccount(deps, request.tenant!, account.id))!.spidCode } : {}) });

  return async (app: FastifyInstance) => {
    app.addHook("preHandler", needsLevel(1));
    app.addContentTypeParser(["application/pdf", "application/pkcs7-mime", "application/octet-stream"], { parseAs: "buffer", bodyLimit: 20_000_000 }, (_request, body, done) => done(null, body));

    app.get("/", async (request) => {
      const account = await findAccount(deps, request.tenant!, request.session!.accountId);
      return stateOf(request, account!);
    });

    app.post("/cie", async (request, reply) => {
      const upload = parseBody(ChipUpload, request.body);
      const account = await applicantOf(services, request);
      const chip = { dg1: Buffer.from(upload.dg1, "base64"), dg11: Buffer.from(upload.dg11, "base64"), sod: Buffer.from(upload.sod, "base64") };
      return answer(request, reply, account, await proofByCie(deps, request.tenant!, account, chip, actorOf(request), links(services, request)));
    });

    app.get("/contract", async (request, reply) =>
      reply.type("application/pdf").send(await contractFor(deps, request.tenant!, await applicantOf(services, request), actorOf(request))),
    );

    app.post("/signed", async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) throw new TesseraError("http.unsupported_media_type", "send the signed file as application/pdf or application/pkcs7-mime", { status: 415 });
      const account = await applicantOf(services, request);
      return answer(request, reply, account, await submitSignedContract(deps, request.tenant!, account, request.body, actorOf(request), links(services, request)));
    });
  };
}
