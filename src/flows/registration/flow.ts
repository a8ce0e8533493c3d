import type { AttemptStore } from "../../identity/brute-force.ts";
import type { FlowDefinition } from "../flow.ts";
import { REGISTRATION, type RegistrationData } from "./data.ts";
import { chooseCitizenship } from "./steps/choose-citizenship.ts";
import { confirmRegistrationEmail } from "./steps/confirm-email.ts";
import { enterDetails } from "./steps/enter-details.ts";

/**
 * A local account, for tenants that let anyone register (seed 001, "Registrati"):
 *
 *   citizenship → details → email_confirmation → (complete: the codice persona)
 */
export function registrationFlow(outside: { attempts: AttemptStore; clockNow(): number }): FlowDefinition<RegistrationData> {
  return {
    kind: REGISTRATION,
    firstStep: "citizenship",
    initialTtlMs: 60 * 60_000,
    steps: {
      citizenship: chooseCitizenship,
      details: enterDetails(outside),
      email_confirmation: confirmRegistrationEmail,
    },
    result: (flow): Record<string, string> => (flow.data.codicePersona ? { codice_persona: flow.data.codicePersona } : {}),
  };
}
