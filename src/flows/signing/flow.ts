import type { AttemptStore } from "../../identity/brute-force.ts";
import type { PkiRuntime } from "../../pki/deps.ts";
import type { FlowDefinition } from "../flow.ts";
import { SIGNING, type SigningData } from "./data.ts";
import { authoriseSignature } from "./steps/authorise.ts";
import { chooseDocument } from "./steps/document.ts";

/**
 * Signing a PDF from the self-service panel (seed 002, remote signing), for a signed-in
 * professional:
 *
 *   document (the PDF and the certificate; the code is sent) → authorise (password and code:
 *   the PAdES B-T signature) → complete (the signed PDF, to download while the flow lives)
 */
export function signingFlow(outside: { pki: PkiRuntime; attempts: AttemptStore }): FlowDefinition<SigningData> {
  return {
    kind: SIGNING,
    firstStep: "document",
    initialTtlMs: 15 * 60_000,
    // Started by the panel for its signed-in holder, never by an API client.
    openedByServer: true,
    steps: { document: chooseDocument(outside), authorise: authoriseSignature(outside) },
  };
}
