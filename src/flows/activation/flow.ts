import type { AttemptStore } from "../../identity/brute-force.ts";
import type { PkiRuntime } from "../../pki/deps.ts";
import type { FlowDefinition } from "../flow.ts";
import { ACTIVATION, type ActivationData } from "./data.ts";
import { enterCode } from "./steps/code.ts";
import { finalCode } from "./steps/final-code.ts";
import { checkIdentity } from "./steps/identity.ts";
import { choosePassword } from "./steps/password.ts";
import { acceptTerms } from "./steps/terms.ts";

/**
 * A professional's activation (seed 002, "6 pasos a realizar por cada persona"), opened by a
 * representative's authorisation and reached by the link e-mailed then (step 1):
 *
 *   code → identity (DNI expiry) → password (and the signing keys) → terms → final_code
 *   → (complete: certificates issued)
 *
 * The flow lives as long as its link; any node serves any step, and the link opened again (in any
 * browser) resumes it where it was.
 */
export function activationFlow(outside: { attempts: AttemptStore; clockNow: () => number; pki: PkiRuntime }): FlowDefinition<ActivationData> {
  return {
    kind: ACTIVATION,
    firstStep: "code",
    initialTtlMs: 72 * 3_600_000,
    openedByServer: true,
    steps: {
      code: enterCode,
      identity: checkIdentity(outside.attempts, outside.clockNow),
      password: choosePassword(outside),
      terms: acceptTerms,
      final_code: finalCode(outside),
    },
    result: (flow): Record<string, string> => Object.fromEntries((flow.data.issued ?? []).map((c) => [c.organization, `${c.subject} (${c.serial})`])),
  };
}
