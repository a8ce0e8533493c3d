import type { FlowDefinition } from "../flow.ts";
import { ENROLMENT, type EnrolmentData } from "./data.ts";
import { changePassword } from "./steps/change-password.ts";
import { chooseMethod } from "./steps/choose-method.ts";
import { confirmEmailAddress, confirmMobile } from "./steps/confirm-code.ts";
import { enterPersonalData } from "./steps/enter-personal-data.ts";
import { nextSteps } from "./next-steps.ts";
import { requestNumber, reviewSummary } from "./steps/review-summary.ts";
import { type CredentialsOutside, setCredentials } from "./steps/set-credentials.ts";
import { setSecurity } from "./steps/set-security.ts";

/**
 * The SPID identity request of seed 000, as a flow:
 *
 *   method → credentials → [password_change] → email_confirmation → security → mobile_confirmation
 *     → personal_data → [password_change] → summary → (awaiting_proofing)
 *
 * See states.mmd beside this file for the diagram.
 */
export function enrolmentFlow(outside: CredentialsOutside): FlowDefinition<EnrolmentData> {
  return {
    kind: ENROLMENT,
    firstStep: "method",
    // Until the applicant has an account the flow is anonymous and short-lived.
    initialTtlMs: 60 * 60_000,
    steps: {
      method: chooseMethod,
      credentials: setCredentials(outside),
      password_change: changePassword,
      email_confirmation: confirmEmailAddress,
      security: setSecurity,
      mobile_confirmation: confirmMobile,
      personal_data: enterPersonalData(outside),
      summary: reviewSummary,
    },
    result: (flow, { tenant, t }) => ({
      request: requestNumber(flow.id),
      next_steps: nextSteps(tenant, flow.data, t, requestNumber(flow.id)),
    }),
  };
}

/** The steps in the order a request goes through them (for progress indicators). */
export const ENROLMENT_STEPS = ["method", "credentials", "email_confirmation", "security", "mobile_confirmation", "personal_data", "summary"] as const;
