import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { TesseraError, ValidationError } from "../shared/errors.ts";
import { isMessageKey, type MessageKey } from "../shared/i18n/translate.ts";
import { errorPage } from "./views/error-page.ts";
import { pageContext } from "./page-context.ts";

/** The JSON `error` code for each status: OAuth's where it has one, plain HTTP names otherwise. */
const WIRE_CODES: Record<number, string> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "too_many_requests",
  500: "server_error",
  503: "temporarily_unavailable",
};

/** Errors whose JSON code is not the status's: step-up as RFC 9470 names it. */
const WIRE_CODE_OF: Record<string, string> = {
  "session.step_up_required": "insufficient_user_authentication",
  "session.reauth_required": "insufficient_user_authentication",
  "session.required": "login_required",
  "admin.unauthorized": "invalid_token",
  "client.invalid": "invalid_client_metadata",
  "http.forbidden_origin": "forbidden",
  "flow.wrong_step": "wrong_step",
  "flow.expired": "flow_expired",
  "flow.finished": "flow_finished",
  "flow.csrf": "csrf_failed",
  "login.invalid_credentials": "invalid_credentials",
  "account.locked": "locked",
  "account.delayed": "locked",
  "account.ip_blocked": "locked",
};

const HTTP_MESSAGES: Partial<Record<number, MessageKey>> = {
  400: "http.bad_request",
  404: "http.not_found",
  405: "http.method_not_allowed",
  413: "http.payload_too_large",
  415: "http.unsupported_media_type",
  429: "http.rate_limited",
  503: "http.unavailable",
};

/**
 * The one place where errors become responses: JSON `{"error", "error_description"}` for API
 * clients, an HTML page for browsers (anything that accepts text/html outside `/api/`).
 * Messages are in the response language; internal details stay in the log.
 */
export function renderError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { status, message } = describe(request, error);
  const overloaded = error instanceof TesseraError && error.code === "service.overloaded";
  // A refusal under overload is the plan working, counted in /metrics: a log line each would add to the load.
  if (status >= 500 && !overloaded) request.log.error({ err: error }, "request failed");
  else request.log.info({ status, code: (error as { code?: string }).code }, "request rejected");

  reply.code(status);
  // When to come back, for a refusal that will pass by itself (RFC 9110 §10.2.3).
  if ((status === 429 || status === 503) && error instanceof TesseraError && typeof error.params.seconds === "number") {
    reply.header("retry-after", String(error.params.seconds));
  }
  if (wantsHtml(request)) {
    return reply
      .type("text/html; charset=utf-8")
      .send(errorPage(pageContext(request), { status, message, requestId: request.id }).value);
  }
  const code = error instanceof TesseraError ? WIRE_CODE_OF[error.code] : undefined;
  const body: Record<string, unknown> = {
    error: code ?? WIRE_CODES[status] ?? (status >= 500 ? "server_error" : "invalid_request"),
    error_description: message,
  };
  if (error instanceof ValidationError) {
    body.errors = error.issues.map((i) => ({
      field: i.field,
      code: i.code,
      message: isMessageKey(i.code) ? request.t(i.code, i.params) : i.message,
    }));
  }
  // A refused identity proofing says why (the message) and what to do next.
  if (error instanceof TesseraError && error.code.startsWith("proofing.reason.")) {
    body.error = "proofing_refused";
    body.reason = error.params.reason;
    body.next_steps = request.t(`proofing.next.${String(error.params.reason)}` as MessageKey);
  }
  // A wrong step says which step the flow is at.
  if (code === "wrong_step" && error instanceof TesseraError) body.step = error.params.step;
  if (code === "insufficient_user_authentication" && error instanceof TesseraError) {
    if (error.params.acr !== undefined) {
      body.acr_values = error.params.acr;
      reply.header("www-authenticate", `Bearer error="insufficient_user_authentication", acr_values="${String(error.params.acr)}"`);
    } else {
      body.max_age = error.params.maxAge;
      reply.header("www-authenticate", `Bearer error="insufficient_user_authentication", max_age=${String(error.params.maxAge)}`);
    }
  }
  return reply.type("application/json; charset=utf-8").send(body);
}

function describe(request: FastifyRequest, error: unknown): { status: number; message: string } {
  const { t } = request;
  if (error instanceof TesseraError) {
    const message = isMessageKey(error.code) ? t(error.code, error.params) : error.message;
    return { status: error.status, message };
  }
  const status = (error as FastifyError | undefined)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const key = HTTP_MESSAGES[status] ?? "http.bad_request";
    // Fastify's own 4xx messages (bad JSON, wrong content type) are safe and useful to show.
    return { status, message: t(key, { detail: (error as Error).message, seconds: 1 }) };
  }
  return { status: 500, message: t("http.server_error") };
}

function wantsHtml(request: FastifyRequest): boolean {
  if (request.url.includes("/api/")) return false;
  return (request.headers.accept ?? "").includes("text/html");
}
