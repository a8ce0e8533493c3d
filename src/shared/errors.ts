/**
 * Base of the errors Tessera raises on purpose. `code` is `area.reason` (`tenant.not_found`) and
 * doubles as the i18n key of the message users see; `message` is for logs and operators.
 * `status` is the HTTP status the web layer answers with. Protocol errors (OIDC, SAML) keep their
 * own classes with their spec's wire codes.
 */
export class TesseraError extends Error {
  override name = "TesseraError";
  readonly code: string;
  readonly status: number;
  readonly params: Record<string, string | number>;

  constructor(
    code: string,
    message: string,
    options: { status?: number; params?: Record<string, string | number>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 400;
    this.params = options.params ?? {};
  }
}

/** One thing wrong with one field: `code` is stable (and an i18n key where one exists). */
export interface FieldIssue {
  field: string;
  code: string;
  message: string;
  params?: Record<string, string | number>;
}

/** Input that fails validation; `issues` name each field and what is wrong with it. */
export class ValidationError extends TesseraError {
  override name = "ValidationError";
  readonly issues: FieldIssue[];

  constructor(code: string, issues: FieldIssue[]) {
    super(code, issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; "), { status: 400 });
    this.issues = issues;
  }
}
