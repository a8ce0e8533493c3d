import { recordAuditBy } from "../../../audit/service.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import type { StepDefinition } from "../../flow.ts";
import { type CardCheck, CardPresentation, presentedCard } from "../../professionals/card.ts";
import { checkRequest, requestMembership } from "../../professionals/memberships.ts";
import type { MembershipRequestData } from "../data.ts";

/**
 * The card (seed 002: "con un certificado profesional previo en tarjeta"): submitted only by the
 * mutual-TLS endpoint. The card is checked (chain, status, the request's DNI) before the
 * transaction; a refusal is logged and told, and another card may be tried; a card accepted
 * makes the request.
 */
export function presentCard(outside: { pki: PkiRuntime }): StepDefinition<MembershipRequestData, CardPresentation, CardCheck | undefined> {
  return {
    name: "card",
    input: CardPresentation,

    fields({ t }) {
      return [{ name: "card", type: "text", required: true, label: t("professionals.card.present") }];
    },

    async prepare({ deps, tenant, flow }, input) {
      const request = await checkRequest(deps, tenant, flow.data.request ?? {});
      return presentedCard({ ...deps, pki: outside.pki }, tenant, flow.id, input, request.dni);
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
