import type { FieldIssue } from "../shared/errors.ts";
import type { MessageKey, Translate } from "../shared/i18n/translate.ts";

/**
 * A refused one-time code (SMS, e-mail, authenticator app, recovery code) as sign-in, recovery
 * and settings flows report it (docs/api.md): `code_expired`, or `invalid_code` whatever else
 * went wrong, with the precise reason in the message (tries left, "already used").
 */
export function codeIssue(t: Translate, verdict: { reason: MessageKey; params?: Record<string, string | number> }): FieldIssue {
  return {
    field: "code",
    code: verdict.reason === "otp.expired" ? "code_expired" : "invalid_code",
    message: t(verdict.reason, verdict.params),
    ...(verdict.params && Object.keys(verdict.params).length > 0 ? { params: verdict.params } : {}),
  };
}
