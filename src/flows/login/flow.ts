import type { AttemptStore } from "../../identity/brute-force.ts";
import type { FlowDefinition } from "../flow.ts";
import { LOGIN, type LoginData } from "./data.ts";
import { changeExpiredPassword } from "./steps/change-password.ts";
import { identify } from "./steps/identify.ts";
import { secondFactor } from "./steps/second-factor.ts";

/**
 * Sign-in, at the level asked for:
 *
 *   identify → [password_change] → (level 1: complete) | second_factor → complete
 */
export function loginFlow(outside: { attempts: AttemptStore; clockNow: () => number }): FlowDefinition<LoginData> {
  return {
    kind: LOGIN,
    firstStep: "identify",
    initialTtlMs: 15 * 60_000,
    steps: {
      identify: identify(outside.attempts, outside.clockNow),
      password_change: changeExpiredPassword,
      second_factor: secondFactor(outside.attempts, outside.clockNow),
    },
  };
}
