import { createHash } from "node:crypto";
import * as pkijs from "pkijs";
import { z } from "zod";
import { normalizeDni } from "../../identity/identifiers.ts";
import { owned } from "../../pki/algorithms.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { checkTrustedCertificate, forClientAuthentication } from "../../pki/trust.ts";
import { subjectAttribute, subjectSerialNumber } from "../../pki/validation.ts";
import type { Secrets } from "../../shared/crypto/secrets.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { MembershipEvidence } from "./memberships.ts";

/** Why a card was not accepted: stable codes (i18n keys `professionals.card.<code>`). */
export const CARD_PROBLEMS = ["missing", "not_for_authentication", "untrusted", "expired", "revoked", "status_unknown", "other_dni", "other_name"] as const;
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

/** The holder's names as the card's certificate states them (givenName, surname, commonName). */
export interface CardNames {
  given?: string;
  family?: string;
  common?: string;
}

const namesOf = (leaf: pkijs.Certificate): CardNames => {
  const given = subjectAttribute(leaf, "2.5.4.42");
  const family = subjectAttribute(leaf, "2.5.4.4");
  const common = subjectAttribute(leaf, "2.5.4.3");
  return { ...(given ? { given } : {}), ...(family ? { family } : {}), ...(common ? { common } : {}) };
};

/** Names compared as people write them: case, accents and spacing aside. */
const folded = (name: string) => name.normalize("NFD").replace(/\p{M}/gu, "").toUpperCase().replace(/\s+/g, " ").trim();

/**
 * The names a request made with a card is recorded under: the card's given name and surname where
 * it states them (what was typed yields to what the CA verified); otherwise the typed names, which
 * the card's common name must contain. A certificate is then never issued in a name the person
 * merely typed.
 */
export function namesForCard(card: CardNames, typed: { given: string; family: string }): { given: string; family: string } {
  if (card.given && card.family) return { given: card.given, family: card.family };
  const common = folded(card.common ?? "");
  if (common.includes(folded(typed.given)) && common.includes(folded(typed.family))) return typed;
  throw new CardRefusal("other_name", `the card names ${card.common ?? "nobody"}, the request ${typed.given} ${typed.family}`);
}

/**
 * A professional card (seed 002: "un certificado profesional previo en tarjeta"), as the browser
 * presented it in the TLS handshake: an authentication certificate, chained to the tenant's card
 * trust list, valid, not revoked (its CA must answer), naming a DNI, and, for a request, the DNI
 * the request is for. What was checked is the evidence; the DNI is the card's.
 */
export async function checkCard(deps: PkiDeps, tenant: Tenant, chain: Uint8Array[], requestDni: string | null): Promise<{ evidence: CardEvidence; dni: string; names: CardNames }> {
  if (chain.length === 0) throw new CardRefusal("missing", "no certificate was presented");
  let leaf: pkijs.Certificate | undefined;
  let intermediates: pkijs.Certificate[];
  try {
    [leaf, ...intermediates] = chain.map((der) => pkijs.Certificate.fromBER(owned(der)));
  } catch {
    throw new CardRefusal("untrusted", "what was presented is not an X.509 certificate");
  }
  if (!forClientAuthentication(leaf!)) throw new CardRefusal("not_for_authentication", "the certificate is not for client authentication");
  const verdict = await checkTrustedCertificate(deps, tenant, tenant.policy.professionals.trust.card, leaf!, intermediates);
  if (!verdict.ok) throw new CardRefusal(verdict.problem, verdict.detail);
  const holder = dniOf(leaf!);
  if (!holder || (requestDni !== null && holder !== requestDni)) throw new CardRefusal("other_dni", `the card is ${holder ? `for ${holder}` : "for no DNI"}${requestDni ? `, the request for ${requestDni}` : ""}`);
  return { evidence: { channel: "card", ...verdict.checked, sha256: createHash("sha256").update(chain[0]!).digest("hex") }, dni: holder, names: namesOf(leaf!) };
}

/**
 * What the mutual-TLS endpoint submits to the card step of a flow: the chain the browser presented
 * (DER, base64) and the endpoint's proof that it came from the handshake.
 */
export const CardPresentation = z
  .object({
    chain: z.array(z.string().max(20_000)).max(6),
    proof: z.string().max(100),
    /** A fresh secret the endpoint sends back with the browser that presented the card (`cardAnswerMac`). */
    answer: z.string().min(20).max(100),
  })
  .strict();
export type CardPresentation = z.infer<typeof CardPresentation>;

/** The card checked, or why it was not accepted; nothing when the chain did not come from a handshake. */
export type CardCheck = { evidence: CardEvidence; dni: string; names: CardNames } | { refusal: CardRefusal };

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
 * What a flow keeps of the endpoint's `answer`: the card step only moves the flow on; the browser
 * the endpoint sent back must bring the answer, and be the one bound to the flow, to finish it.
 * The endpoint's ticket can be handed to someone else (a link is a link): without this, whoever
 * started the flow would collect what another person's card and PIN proved.
 */
export const cardAnswerMac = (secrets: Secrets, flowId: string, answer: string) => secrets.mac(`card-answer:${flowId}:${answer}`);

export function isCardAnswer(secrets: Secrets, flowId: string, answer: unknown, mac: string | undefined): boolean {
  return typeof answer === "string" && mac !== undefined && secrets.macEquals(`card-answer:${flowId}:${answer}`, mac);
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
