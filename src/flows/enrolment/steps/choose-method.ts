import { z } from "zod";
import { IDENTIFICATION_METHODS } from "../../../tenants/policy.ts";
import { newCaptcha } from "../../captcha.ts";
import type { StepDefinition } from "../../flow.ts";
import type { EnrolmentData } from "../data.ts";

/**
 * Step 1 (seed 000): how the applicant will be identified when signing the contract: with a
 * qualified signature, a CNS card, in person at a registration point, by video with an operator,
 * or with an electronic document read by the app. The proofing itself comes later.
 */
export const chooseMethod: StepDefinition<EnrolmentData, { method: (typeof IDENTIFICATION_METHODS)[number]; point?: string | undefined }> = {
  name: "method",
  input: z.object({ method: z.enum(IDENTIFICATION_METHODS), point: z.string().max(40).optional() }),
  reachableFrom: ["credentials"],

  fields({ tenant, flow, t }) {
    const policy = tenant.policy.enrolment!;
    return [
      {
        name: "method",
        type: "radio",
        required: true,
        label: t("enrol.field.method"),
        options: policy.methods.map((m) => ({ value: m, label: t(`enrol.method.${m}`), description: t(`enrol.method.${m}.description`) })),
        ...(flow.data.method ? { value: flow.data.method } : {}),
      },
      {
        name: "point",
        type: "select",
        required: false,
        label: t("enrol.field.point"),
        hint: t("enrol.field.point.hint"),
        options: policy.points.map((p) => ({ value: p.id, label: `${p.name} – ${p.address}` })),
        ...(flow.data.point ? { value: flow.data.point } : {}),
      },
    ];
  },

  async handle({ tenant, deps }, input) {
    const policy = tenant.policy.enrolment!;
    if (!policy.methods.includes(input.method)) {
      return { type: "reject", errors: [{ field: "method", code: "enrol.method_unavailable", message: "method not offered" }] };
    }
    let point: string | undefined;
    if (input.method === "in_person") {
      point = input.point;
      if (!point) return { type: "reject", errors: [{ field: "point", code: "enrol.point_required", message: "choose a registration point" }] };
      if (!policy.points.some((p) => p.id === point)) {
        return { type: "reject", errors: [{ field: "point", code: "enrol.point_unknown", message: "no such registration point" }] };
      }
    }
    return {
      type: "advance",
      to: "credentials",
      data: { method: input.method, point, captcha: await newCaptcha(deps.secrets, policy.captchaMaxNumber) },
    };
  },
};
