import type { AttemptStore } from "../../identity/brute-force.ts";
import type { UpstreamAnswers } from "../../identity/upstream-identity.ts";
import type { PkiRuntime } from "../../pki/deps.ts";
import type { FlowDefinition } from "../flow.ts";
import { LOGIN, type LoginData } from "./data.ts";
import { cardSignedIn, signInWithCard } from "./steps/card.ts";
import { changeExpiredPassword } from "./steps/change-password.ts";
import { identify } from "./steps/identify.ts";
import { activateSecondFactor } from "./steps/activate-second-factor.ts";
import { chooseFirstPassword } from "./steps/first-password.ts";
import { linkWithPassword } from "./steps/link-password.ts";
import { secondFactor } from "./steps/second-factor.ts";
import { setUpTotp } from "./steps/set-up-totp.ts";
import { upstreamAnswer } from "./steps/upstream.ts";

/**
 * Sign-in, at the level asked for (always 2 where two factors are mandatory):
 *
 *   identify → [password_change] → (level 1: complete) | second_factor → complete
 *                                                      | activate_2fa → totp_setup | upstream → complete
 *   upstream ("Entra con SPID/CIE") → [first_password | link_password] → complete | second_factor …
 *   card (a professional card over mutual TLS) → card_signed → complete
 *
 * second_factor and activate_2fa reach the upstream step for a step-up through SPID/CIE.
 */
export function loginFlow(outside: { attempts: AttemptStore; clockNow: () => number; upstreams: UpstreamAnswers; pki: PkiRuntime }): FlowDefinition<LoginData> {
  return {
    kind: LOGIN,
    firstStep: "identify",
    initialTtlMs: 15 * 60_000,
    steps: {
      identify: identify(outside.attempts, outside.clockNow),
      password_change: changeExpiredPassword(outside),
      second_factor: secondFactor(outside.attempts, outside.clockNow),
      upstream: upstreamAnswer(outside.upstreams),
      first_password: chooseFirstPassword,
      link_password: linkWithPassword(outside.attempts, outside.clockNow),
      activate_2fa: activateSecondFactor,
      totp_setup: setUpTotp,
      card: signInWithCard(outside),
      card_signed: cardSignedIn,
    },
  };
}
