import type { FastifyRequest } from "fastify";
import { TesseraError } from "../shared/errors.ts";

/** The largest file any form takes (the tenant's own limit, `proofing.maxUploadBytes`, is checked after). */
export const MAX_FILE_BYTES = 20_000_000;

export interface MultipartForm {
  fields: Record<string, string | string[]>;
  files: Record<string, Buffer>;
  /** The name each file had on the sender's side (as the browser gives it). */
  filenames: Record<string, string>;
}

/**
 * A `multipart/form-data` body (forms with files: document photos, a signed contract): every
 * field, repeated ones as arrays, and every non-empty file, read whole. A file over the plugin's
 * limit is a 413, never a half-read body passed on.
 */
export async function readMultipart(request: FastifyRequest): Promise<MultipartForm> {
  if (!request.isMultipart()) throw new TesseraError("http.unsupported_media_type", "this form is sent as multipart/form-data", { status: 415 });
  const form: MultipartForm = { fields: {}, files: {}, filenames: {} };
  for await (const part of request.parts()) {
    if (part.type === "file") {
      const content = await part.toBuffer();
      if (part.file.truncated) throw new TesseraError("proofing.upload_too_large", `${part.fieldname}: too large`, { status: 413, params: { field: part.fieldname, max: MAX_FILE_BYTES } });
      if (content.length > 0) {
        form.files[part.fieldname] = content;
        form.filenames[part.fieldname] = part.filename;
      }
    } else {
      const value = String(part.value);
      const previous = form.fields[part.fieldname];
      form.fields[part.fieldname] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
  }
  return form;
}

/** A field that may be given once or repeated (checkboxes), as a list. */
export const many = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
