import { z } from "zod";
import { newCaptcha } from "../../captcha.ts";
import type { StepDefinition } from "../../flow.ts";
import type { RegistrationData } from "../data.ts";

/**
 * Seed 001 starts where its flowchart does: "Hai la cittadinanza italiana?". Italian citizens
 * give their codice fiscale next (SPID/CIE will be matched against it); the answer also decides
 * which second factors are offered later. The captcha of the next step is issued here.
 */
export const chooseCitizenship: StepDefinition<RegistrationData, { citizenship: "italian" | "other" }> = {
  name: "citizenship",
  input: z.object({ citizenship: z.enum(["italian", "other"]) }),
  reachableFrom: ["details"],

  fields({ t, flow }) {
    return [
      {
        name: "citizenship",
        type: "radio",
        required: true,
        label: t("register.field.citizenship"),
        options: [
          { value: "italian", label: t("register.citizenship.italian") },
          { value: "other", label: t("register.citizenship.other") },
        ],
        ...(flow.data.citizenship ? { value: flow.data.citizenship } : {}),
      },
    ];
  },

  async handle(ctx, input) {
    const captcha = await newCaptcha(ctx.deps.secrets, ctx.tenant.policy.registration.captchaMaxNumber);
    return { type: "advance", to: "details", data: { citizenship: input.citizenship, captcha } };
  },
};
