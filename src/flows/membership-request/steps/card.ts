import { z } from "zod";
import { recordAuditBy } from "../../../audit/service.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import type { StepDefinition } from "../../flow.ts";
import { CardRefusal, checkCard } from "../../professionals/card.ts";
import { checkRequest, type MembershipEvidence, requestMembership } from "../../professionals/memberships.ts";
import { isHandshakeProof, type MembershipRequestData } from "../data.ts";

const Input = z.object({ chain: z.array(z.string().max(20_000)).max(6), proof: z.string().max(100) });
type Input = z.infer<typeof Input>;

type Checked = { evidence: Extract<MembershipEvidence, { channel: "card" }> } | { refusal: CardRefusal };

/**
 * The card (seed 002: "con un certificado profesional previo en tarjeta"): submitted only by the
 * mutual-TLS endpoint, with the chain the browser presented and the endpoint's proof that it came
 * from the handshake. The card is checked (chain, status, DNI) before the transaction: its status
 * is asked of its CA's OCSP responder or CRL, over the network, which may be this very server. A
 * refusal is logged and told, and another card may be tried; a card accepted makes the request.
 */
export function presentCard(outside: { pki: PkiRuntime }): StepDefinition<MembershipRequestData, Input, Checked | undefined> {
  return {
    name: "card",
    input: Input,

    fields({ t }) {
      return [{ name: "card", type: "text", required: true, label: t("professionals.card.present") }];
    },

    async prepare({ deps, tenant, flow }, input) {
      const chain = input.chain.map((b64) => new Uint8Array(Buffer.from(b64, "base64")));
      if (!isHandshakeProof(deps.secrets, flow.id, chain, input.proof)) return undefined;
      const request = await checkRequest(deps, tenant, flow.data.request ?? {});
      try {
        return { evidence: await checkCard({ ...deps, pki: outside.pki }, tenant, chain, request.dni) };
      } catch (error) {
        if (!(error instanceof CardRefusal)) throw error;
        return { refusal: error };
      }
    },

    async handle(ctx, _input, checked) {
      const { deps, tenant, flow } = ctx;
      if (!checked) {
        return { type: "reject", errors: [{ field: "card", code: "professionals.card.missing", message: "the certificate must come from the card, through the card sign-in" }] };
      }
      const request = await checkRequest(deps, tenant, flow.data.request ?? {});
      if ("refusal" in checked) {
        const { problem, message, code } = checked.refusal;
        await recordAuditBy(deps.repos, deps.clock, ctx.by, { tenantId: tenant.id, type: "membership.card_refused", subject: null, data: { flow: flow.id, dni: request.dni, problem, detail: message } });
        return { type: "reject", errors: [{ field: "card", code, message }] };
      }
      const membership = await requestMembership(deps, tenant, request, checked.evidence, ctx.by, { consoleUrl: `${ctx.tenantUrl}/organisations` });
      return { type: "finish", state: "complete", data: { membership: membership.id, organization: request.organization.name } };
    },
  };
}
