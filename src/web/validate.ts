import type { z } from "zod";
import { ValidationError } from "../shared/errors.ts";

/** Validates a request body at the edge; a failure is a 400 naming each field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw new ValidationError(
    "http.invalid_body",
    result.error.issues.map((i) => ({ field: i.path.join("."), code: `invalid.${i.code}`, message: i.message })),
  );
}
