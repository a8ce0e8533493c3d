import { createHash } from "node:crypto";
import * as pkijs from "pkijs";
import { z } from "zod";
import { normalizeDni } from "../../identity/identifiers.ts";
import { owned } from "../../pki/algorithms.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { checkTrustedCertificate, forClientAuthentication } from "../../pki/trust.ts";
import { subjectSerialNumber } from "../../pki/validation.ts";
import type { Secrets } from "../../shared/crypto/secrets.ts";
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

export type CardEvidence = Extract<MembershipEvidence, { channel: "card" }>;

/**
 * A professional card (seed 002: "un certificado profesional previo en tarjeta"), as the browser
 * presented it in the TLS handshake: an authentication certificate, chained to the tenant's card
 * trust list, valid, not revoked (its CA must answer), naming a DNI, and, for a request, the DNI
 * the request is for. What was checked is the evidence; the DNI is the card's.
 */
export async function checkCard(deps: PkiDeps, tenant: Tenant, chain: Uint8Array[], requestDni: string | null): Promise<{ evidence: CardEvidence; dni: string }> {
  if (chain.length === 0) throw new CardRefusal("missing", "no certificate was presented");
  const [leaf, ...intermediates] = chain.map((der) => pkijs.Certificate.fromBER(owned(der)));
  if (!forClientAuthentication(leaf!)) throw new CardRefusal("not_for_authentication", "the certificate is not for client authentication");
  const verdict = await checkTrustedCertificate(deps, tenant, tenant.policy.professionals.trust.card, leaf!, intermediates);
  if (!verdict.ok) throw new CardRefusal(verdict.problem, verdict.detail);
  const holder = dniOf(leaf!);
  if (!holder || (requestDni !== null && holder !== requestDni)) throw new CardRefusal("other_dni", `the card is ${holder ? `for ${holder}` : "for no DNI"}${requestDni ? `, the request for ${requestDni}` : ""}`);
  return { evidence: { channel: "card", ...verdict.checked, sha256: createHash("sha256").update(chain[0]!).digest("hex") }, dni: holder };
}

/**
 * What the mutual-TLS endpoint submits to the card step of a flow: the chain the browser presented
 * (DER, base64) and the endpoint's proof that it came from the handshake.
 */
export const CardPresentation = z.object({ chain: z.array(z.string().max(20_000)).max(6), proof: z.string().max(100) }).strict();
export type CardPresentation = z.infer<typeof CardPresentation>;

/** The card checked, or why it was not accepted; nothing when the chain did not come from a handshake. */
export type CardCheck = { evidence: CardEvidence; dni: string } | { refusal: CardRefusal };

/**
 * Checks a presented card for a flow's card step. Run as the step's preparation, outside the
 * transaction: the card's status is asked of its CA over the network, which may be this server.
 */
export async function presentedCard(deps: PkiDeps, tenant: Tenant, flowId: string, input: CardPresentation, requestDni: string | null): Promise<CardCheck | undefined> {
  const chain = input.chain.map((b64) => new Uint8Array(Buffer.from(b64, "base64")));
  if (!isHandshakeProof(deps.secrets, flowId, chain, input.proof)) return undefined;
  try {
    return await checkCard(deps, tenant, chain, requestDni);
  } catch (error) {
    if (!(error instanceof CardRefusal)) throw error;
    return { refusal: error };
  }
}

/**
 * The proof that a chain came from a TLS handshake on this server's mutual-TLS endpoint, for this
 * flow: certificates are public, so a chain a client typed proves nothing; only the endpoint,
 * which saw the private key used, can make this MAC.
 */
export function handshakeProof(secrets: Secrets, flowId: string, chain: Uint8Array[]): string {
  return secrets.mac(handshakeInput(flowId, chain));
}

function isHandshakeProof(secrets: Secrets, flowId: string, chain: Uint8Array[], proof: string): boolean {
  return secrets.macEquals(handshakeInput(flowId, chain), proof);
}

function handshakeInput(flowId: string, chain: Uint8Array[]): string {
  const digest = createHash("sha256");
  for (const der of chain) digest.update(createHash("sha256").update(der).digest());
  return `card-handshake:${flowId}:${digest.digest("hex")}`;
}
