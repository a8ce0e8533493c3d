import { z } from "zod";
import { LOCALES } from "../shared/i18n/locales.ts";
import { LocalizedText, TenantPolicy } from "./policy.ts";

/**
 * A tenant is one identity system run by the server (`national`, `university`, `pro` in the demo),
 * with its own issuer URL (`<base-url>/t/<id>`), languages, policies and branding.
 */
export const TenantId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,31}$/, "must be 2–32 lower-case letters, digits or hyphens, starting with a letter");

const Locale = z.enum(LOCALES);


export const TenantBranding = z
  .object({
    /** Main colour of the tenant's pages, as #rrggbb. */
    primaryColor: z
      .string()
      .regex(/^#[0-9a-f]{6}$/i, "must be a colour as #rrggbb")
      .default("#1f4e79"),
    tagline: LocalizedText.default({}),
    description: LocalizedText.default({}),
  })
  .strict();
export type TenantBranding = z.infer<typeof TenantBranding>;

/** What an operator gives to create a tenant. */
export const TenantInput = z
  .object({
    id: TenantId,
    displayName: z.string().trim().min(1).max(100),
    locales: z
      .array(Locale)
      .min(1)
      .refine((l) => new Set(l).size === l.length, "must not repeat a language"),
    defaultLocale: Locale.optional(),
    policy: TenantPolicy.default(TenantPolicy.parse({})),
    branding: TenantBranding.default(TenantBranding.parse({})),
  })
  .strict()
  .transform((t) => ({ ...t, defaultLocale: t.defaultLocale ?? t.locales[0]! }))
  .refine((t) => t.locales.includes(t.defaultLocale), {
    message: "must be one of the tenant's locales",
    path: ["defaultLocale"],
  });
export type TenantInput = z.input<typeof TenantInput>;

export type Tenant = z.output<typeof TenantInput> & {
  createdAt: number;
  updatedAt: number;
  /**
   * An argon2id hash of a secret nobody knows, at the tenant's current cost: what a secret typed
   * for an unknown identifier is verified against (identity/password/decoy.ts). Null until made.
   */
  decoyHash: string | null;
};
