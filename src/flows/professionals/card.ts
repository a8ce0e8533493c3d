import { createHash } from "node:crypto";
import * as pkijs from "pkijs";
import { normalizeDni } from "../../identity/identifiers.ts";
import { owned } from "../../pki/algorithms.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { checkTrustedCertificate, forClientAuthentication } from "../../pki/trust.ts";
import { subjectSerialNumber } from "../../pki/validation.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { MembershipEvidence } from "./memberships.ts";

/** Why a card was not accepted: stable codes (i18n keys `professionals.card.<code>`). */
export const CARD_PROBLEMS = ["missing", "not_for_authentication", "untrusted", "expired", "revoked", "status_unknown", "other_dni"] as const;
export type CardProblem = (typeof CARD_PROBLEMS)[number];

export class CardRefusal extends TesseraError {
  override name = "CardRefusal";
  constructor(readonly problem: CardProblem, detail: string) {
    super(`professionals.card.${problem}`, detail, { status: 422, params: { problem } });
  }
}

/**
 * The DNI a Spanish certificate names: its serialNumber, `IDCES-<DNI>` as ETSI EN 319 412-1 writes
 * it, or the bare DNI of older profiles.
 */
export function dniOf(certificate: pkijs.Certificate): string | undefined {
  const serialNumber = subjectSerialNumber(certificate) ?? "";
  return normalizeDni(serialNumber.replace(/^IDCES-/, "")) ?? undefined;
}

/**
 * The professional card a request is made with (seed 002: "con un certificado profesional previo
 * en tarjeta"), as the browser presented it in the TLS handshake: an authentication certificate,
 * chained to the tenant's card trust list, valid, not revoked (its CA must answer), and of the DNI
 * the request is for. What was checked becomes the request's evidence.
 */
export async function checkCard(deps: PkiDeps, tenant: Tenant, chain: Uint8Array[], dni: string): Promise<Extract<MembershipEvidence, { channel: "card" }>> {
  if (chain.length === 0) throw new CardRefusal("missing", "no certificate was presented");
  const [leaf, ...intermediates] = chain.map((der) => pkijs.Certificate.fromBER(owned(der)));
  if (!forClientAuthentication(leaf!)) throw new CardRefusal("not_for_authentication", "the certificate is not for client authentication");
  const verdict = await checkTrustedCertificate(deps, tenant, tenant.policy.professionals.trust.card, leaf!, intermediates);
  if (!verdict.ok) throw new CardRefusal(verdict.problem, verdict.detail);
  const holder = dniOf(leaf!);
  if (holder !== dni) throw new CardRefusal("other_dni", `the card is ${holder ? `for ${holder}` : "for no DNI"}, the request for ${dni}`);
  return { channel: "card", ...verdict.checked, sha256: createHash("sha256").update(chain[0]!).digest("hex") };
}
