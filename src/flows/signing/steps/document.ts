import { createHash } from "node:crypto";
import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import { TesseraError } from "../../../shared/errors.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { sendSigningCode } from "../../../signing/authorization.ts";
import { checkCanSign, credentialOf } from "../../../signing/credentials.ts";
import type { StepDefinition } from "../../flow.ts";
import type { SigningData } from "../data.ts";

/** The largest PDF the signing page takes (base64 in the flow until it is signed). */
export const MAX_PDF_BYTES = 10_000_000;

const Input = z.object({ credential: z.string().max(100), name: z.string().trim().min(1).max(200), content: z.string().max(Math.ceil((MAX_PDF_BYTES * 4) / 3) + 4) }).strict();
type Input = z.infer<typeof Input>;

/**
 * The document and the certificate to sign it with: a PDF (its first bytes say so), of a
 * certificate of the holder's that can sign now. The code that will authorise the signature is
 * sent at once, where the holder's codes go.
 */
export function chooseDocument(outside: { pki: PkiRuntime }): StepDefinition<SigningData, Input> {
  return {
    name: "document",
    input: Input,
    fields: ({ t }) => [
      { name: "credential", type: "select", required: true, label: t("signing.field.credential") },
      { name: "file", type: "text", required: true, label: t("signing.field.file") },
    ],

    async handle(ctx, input) {
      const { deps, tenant, flow } = ctx;
      const t = translator(ctx.locale);
      const pki = { ...deps, pki: outside.pki };
      const account = (await findAccount(deps, tenant, flow.accountId!))!;
      const content = Buffer.from(input.content, "base64");
      if (content.length === 0 || content.length > MAX_PDF_BYTES || !content.subarray(0, 5).equals(Buffer.from("%PDF-"))) {
        return { type: "reject", errors: [{ field: "file", code: "signing.not_pdf", message: t("signing.not_pdf", { max: Math.round(MAX_PDF_BYTES / 1_000_000) }) }] };
      }
      try {
        const credential = await credentialOf(pki, tenant, account, input.credential);
        checkCanSign(credential);
        const { to } = await sendSigningCode(pki, tenant, account, credential, ctx.locale);
        const document = { name: input.name, size: content.length, digest: createHash("sha256").update(content).digest("base64"), content: input.content };
        return { type: "advance", to: "authorise", data: { credential: credential.id, document, sentTo: to }, notice: { code: "signing.code_sent", params: { to } } };
      } catch (error) {
        if (!(error instanceof TesseraError) || error.status >= 500) throw error;
        return { type: "reject", errors: [{ field: "credential", code: "signing.cannot_sign", message: t("signing.cannot_sign", { reason: error.message }) }] };
      }
    },
  };
}
