import type { PkiRuntime } from "../../pki/deps.ts";
import type { FlowDefinition } from "../flow.ts";
import { MEMBERSHIP_REQUEST, type MembershipRequestData } from "./data.ts";
import { confirmCardRequest, presentCard } from "./steps/card.ts";
import { enterDetails } from "./steps/details.ts";

/**
 * A request for a professional identity made with a professional card (seed 002):
 *
 *   details → card (the mutual-TLS endpoint) → confirm (the browser, back) → complete: the request
 *   waits for a representative
 *
 * Requests made in person are recorded by a desk officer (flows/professionals/memberships.ts).
 */
export function membershipRequestFlow(outside: { pki: PkiRuntime }): FlowDefinition<MembershipRequestData> {
  return {
    kind: MEMBERSHIP_REQUEST,
    firstStep: "details",
    initialTtlMs: 60 * 60_000,
    steps: { details: enterDetails, card: presentCard(outside), confirm: confirmCardRequest },
    result: (flow): Record<string, string> => (flow.data.membership ? { membership: flow.data.membership, organization: flow.data.organization ?? "" } : {}),
  };
}
