import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import type { AttemptStore } from "../../../identity/brute-force.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import { recordAuditBy } from "../../../audit/service.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import { TesseraError } from "../../../shared/errors.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { authorizeCredential, refusalIssue, sendSigningCode, spendAuthorization } from "../../../signing/authorization.ts";
import { credentialOf } from "../../../signing/credentials.ts";
import { signPdf } from "../../../signing/signatures.ts";
import { checkbox } from "../../enrolment/data.ts";
import type { StepDefinition } from "../../flow.ts";
import type { SigningData } from "../data.ts";
import { defaultMechanism, type KeyAlgorithm } from "../../../pki/algorithms.ts";

const Input = z.object({ password: z.string().max(256).optional(), code: z.string().max(20).optional(), send: checkbox.optional() }).strict();
type Input = z.infer<typeof Input>;

type Prepared = { signed: Buffer; activation: string } | { errors: FieldIssue[] } | undefined;

/**
 * The signature, authorised as the CSC API's credentials/authorize does (the signing password and
 * the code; wrong ones count like a sign-in's) for this document's digest only, and made at
 * PAdES B-T (a time-stamp of the tenant's TSA). The work (argon2id, the signature, the time-stamp)
 * runs before the transaction, which keeps the signed document for its download.
 */
export function authoriseSignature(outside: { pki: PkiRuntime; attempts: AttemptStore }): StepDefinition<SigningData, Input, Prepared> {
  return {
    name: "authorise",
    input: Input,
    fields: ({ t }) => [
      { name: "password", type: "password", required: true, label: t("signing.field.password"), autocomplete: "current-password" },
      { name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" },
    ],

    async prepare(ctx, input) {
      if (input.send) return undefined;
      const { tenant, flow } = ctx;
      const t = translator(ctx.locale);
      const deps = { ...ctx.deps, pki: outside.pki, attempts: outside.attempts };
      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      const document = flow.data.document!;
      try {
        const credential = await credentialOf(deps, tenant, account, flow.data.credential);
        const request = { pin: input.password ?? "", otp: input.code ?? "", hashes: [document.digest], hashAlgorithm: "SHA-256" as const, numSignatures: 1, clientId: null, ip: ctx.by.ip ?? null };
        const { sad } = await authorizeCredential(deps, tenant, account, credential, request, ctx.by);
        const { share, activation } = await spendAuthorization(deps, tenant, account, credential, sad, [document.digest], "SHA-256");
        const mechanism = defaultMechanism(credential.key.algorithm as KeyAlgorithm, "SHA-256");
        const signed = await signPdf(deps, tenant, credential, share, Buffer.from(document.content, "base64"), { level: "B-T", mechanism });
        await recordAuditBy(deps.repos, deps.clock, ctx.by, {
          tenantId: tenant.id,
          type: "signature.created",
          subject: account.id,
          data: { credential: credential.id, organization: credential.organization.name, activation, signatures: 1, method: "panel", document: document.name, formats: ["P-B-T"] },
        });
        return { signed, activation };
      } catch (error) {
        if (error instanceof TesseraError && error.status < 500) return { errors: [refusalIssue(t, error)] };
        throw error;
      }
    },

    async handle(ctx, input, prepared) {
      const { deps, tenant, flow } = ctx;
      if (input.send) {
        const account = (await findAccount(deps, tenant, flow.accountId!))!;
        const credential = await credentialOf({ ...deps, pki: outside.pki }, tenant, account, flow.data.credential);
        try {
          const { to } = await sendSigningCode({ ...deps, pki: outside.pki }, tenant, account, credential, ctx.locale);
          return { type: "advance", to: "authorise", data: { sentTo: to }, notice: { code: "signing.code_sent", params: { to } } };
        } catch (error) {
          if (!(error instanceof TesseraError) || error.status >= 500) throw error;
          return { type: "reject", errors: [{ field: "code", code: error.code, message: error.message }] };
        }
      }
      if (!prepared || "errors" in prepared) return { type: "reject", errors: prepared?.errors ?? [] };
      return { type: "finish", state: "complete", data: { signed: prepared.signed.toString("base64"), document: { ...flow.data.document!, content: "" } } };
    },
  };
}
