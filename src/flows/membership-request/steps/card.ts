import { z } from "zod";
import { recordAuditBy } from "../../../audit/service.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { StepDefinition } from "../../flow.ts";
import { cardAnswerMac, type CardCheck, type CardEvidence, CardPresentation, CardRefusal, isCardAnswer, namesForCard, presentedCard } from "../../professionals/card.ts";
import { checkRequest, requestMembership } from "../../professionals/memberships.ts";
import type { MembershipRequestData } from "../data.ts";

/**
 * The card (seed 002: "con un certificado profesional previo en tarjeta"): submitted only by the
 * mutual-TLS endpoint. The card is checked (chain, status, the request's DNI, the names) before
 * the transaction; a refusal is logged and told, and another card may be tried. A card accepted
 * moves the flow on to `confirm`, which the browser bound to the flow completes with the
 * endpoint's answer: only then is the request made.
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

    async handle(ctx, input, checked) {
      const { deps, tenant, flow } = ctx;
      const t = translator(ctx.locale);
      if (!checked) return { type: "reject", errors: [{ field: "card", code: "professionals.card.missing", message: t("professionals.card.missing") }] };
      const request = await checkRequest(deps, tenant, flow.data.request ?? {});
      let accepted: { evidence: CardEvidence; names: { given: string; family: string } } | undefined;
      let refusal = "refusal" in checked ? checked.refusal : undefined;
      if (!("refusal" in checked)) {
        try {
          accepted = { evidence: checked.evidence, names: namesForCard(checked.names, { given: request.givenName, family: request.familyName }) };
        } catch (error) {
          if (!(error instanceof CardRefusal)) throw error;
          refusal = error;
        }
      }
      if (!accepted) {
        const { problem, message, code } = refusal!;
        await recordAuditBy(deps.repos, deps.clock, ctx.by, { tenantId: tenant.id, type: "membership.card_refused", subject: null, data: { flow: flow.id, dni: request.dni, problem, detail: message } });
        return { type: "reject", errors: [{ field: "card", code, message: t(code as `professionals.card.${typeof problem}`) }] };
      }
      const { evidence, names } = accepted;
      return { type: "advance", to: "confirm", data: { card: { evidence, givenName: names.given, familyName: names.family }, cardAnswer: cardAnswerMac(deps.secrets, flow.id, input.answer) } };
    },
  };
}

/**
 * Back from the endpoint, in the browser bound to the flow, with its answer: the request is made
 * (the representatives and the applicant are told), under the names the card states.
 */
export const confirmCardRequest: StepDefinition<MembershipRequestData, { answer: string }> = {
  name: "confirm",
  input: z.object({ answer: z.string().max(100) }).strict(),
  fields: () => [],

  async handle(ctx, input) {
    const { deps, tenant, flow } = ctx;
    const card = flow.data.card;
    if (!card || !isCardAnswer(deps.secrets, flow.id, input.answer, flow.data.cardAnswer)) {
      return { type: "reject", errors: [{ field: "card", code: "professionals.ticket_invalid", message: translator(ctx.locale)("professionals.ticket_invalid") }] };
    }
    const request = { ...(await checkRequest(deps, tenant, flow.data.request ?? {})), givenName: card.givenName, familyName: card.familyName };
    const membership = await requestMembership(deps, tenant, request, card.evidence, ctx.by, { consoleUrl: `${ctx.tenantUrl}/organisations` });
    return { type: "finish", state: "complete", data: { membership: membership.id, organization: request.organization.name } };
  },
};
