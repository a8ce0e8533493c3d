import type { PkiRuntime } from "../../pki/deps.ts";
import type { AttemptStore } from "../../identity/brute-force.ts";
import type { FlowDefinition } from "../flow.ts";
import { RECOVERY, type RecoveryData } from "./data.ts";
import { answerQuestion } from "./steps/answer-question.ts";
import { confirmRecoveryCode, confirmRecoveryLink } from "./steps/confirm-codes.ts";
import { identifyForRecovery } from "./steps/identify.ts";
import { setNewPassword } from "./steps/set-new-password.ts";

/**
 * A forgotten password, by the tenant's procedure:
 *
 *   question_and_sms:     identify → question → code (SMS) → new_password
 *   email_link_and_code:  identify → email_link → code (SMS, or e-mail) → new_password
 */
export function recoveryFlow(outside: { attempts: AttemptStore; clockNow: () => number; pki: PkiRuntime }): FlowDefinition<RecoveryData> {
  return {
    kind: RECOVERY,
    firstStep: "identify",
    initialTtlMs: 30 * 60_000,
    steps: {
      identify: identifyForRecovery,
      question: answerQuestion(outside.attempts, outside.clockNow),
      email_link: confirmRecoveryLink,
      code: confirmRecoveryCode,
      new_password: setNewPassword(outside),
    },
  };
}
