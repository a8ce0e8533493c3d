import { z } from "zod";
import { recordAuditBy } from "../../../audit/service.ts";
import { findAccount, findAccountByIdentifier, stateBlock } from "../../../identity/accounts.ts";
import type { PkiRuntime } from "../../../pki/deps.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { StepDefinition } from "../../flow.ts";
import { cardAnswerMac, type CardCheck, CardPresentation, isCardAnswer, presentedCard } from "../../professionals/card.ts";
import type { LoginData } from "../data.ts";
import { signedIn } from "../finish.ts";

/**
 * Sign-in with a professional card (seed 002's portal offers the card beside "Profesionales en la
 * nube"): submitted only by the mutual-TLS endpoint, with the chain the browser presented. The
 * card's certificate must be one the tenant trusts for cards, in force, and name the DNI of an
 * active professional; the card's PIN unlocked its key, so it is two factors at once. The
 * session is not opened here, on the endpoint's origin, but by `card_signed`, when the browser
 * bound to the flow comes back with the endpoint's answer: a ticket handed to another person lets
 * them present their card, never lets the one who started the flow collect the session.
 */
export function signInWithCard(outside: { pki: PkiRuntime }): StepDefinition<LoginData, CardPresentation, CardCheck | undefined> {
  return {
    name: "card",
    input: CardPresentation,

    fields({ t }) {
      return [{ name: "card", type: "text", required: true, label: t("login.card.present") }];
    },

    prepare: ({ deps, tenant, flow }, input) => presentedCard({ ...deps, pki: outside.pki }, tenant, flow.id, input, null),

    async handle(ctx, input, checked) {
      const { deps, tenant, flow } = ctx;
      const t = translator(ctx.locale);
      if (!tenant.policy.professionals.enabled) return { type: "reject", errors: [{ field: "card", code: "login.card.not_offered", message: t("login.card.not_offered") }] };
      if (!checked) return { type: "reject", errors: [{ field: "card", code: "professionals.card.missing", message: t("professionals.card.missing") }] };
      if ("refusal" in checked) {
        const { problem, code } = checked.refusal;
        await recordAuditBy(deps.repos, deps.clock, ctx.by, { tenantId: tenant.id, type: "login.card_refused", subject: null, data: { flow: flow.id, problem, detail: checked.refusal.message } });
        return { type: "reject", errors: [{ field: "card", code, message: t(code as `professionals.card.${typeof problem}`) }] };
      }
      const account = await findAccountByIdentifier(deps, tenant, checked.dni);
      if (!account) {
        await recordAuditBy(deps.repos, deps.clock, ctx.by, { tenantId: tenant.id, type: "login.card_refused", subject: null, data: { flow: flow.id, problem: "no_identity", serial: checked.evidence.serial } });
        return { type: "reject", errors: [{ field: "card", code: "login.card.no_identity", message: t("login.card.no_identity") }] };
      }
      const block = stateBlock(account.state);
      if (block) return { type: "reject", errors: [{ field: "card", code: block, message: t(block) }] };
      return { type: "advance", to: "card_signed", accountId: account.id, data: { card: checked.evidence.serial, firstFactor: ["card"], cardAnswer: cardAnswerMac(deps.secrets, flow.id, input.answer) } };
    },
  };
}

/**
 * Back on the tenant's origin, in the browser bound to the flow, with the endpoint's answer (the
 * browser that presented the card): the session, at level 2.
 */
export const cardSignedIn: StepDefinition<LoginData, { answer: string }> = {
  name: "card_signed",
  input: z.object({ answer: z.string().max(100) }).strict(),
  fields: () => [],

  async handle(ctx, input) {
    if (!isCardAnswer(ctx.deps.secrets, ctx.flow.id, input.answer, ctx.flow.data.cardAnswer)) {
      return { type: "reject", errors: [{ field: "card", code: "login.card.ticket_invalid", message: translator(ctx.locale)("login.card.ticket_invalid") }] };
    }
    const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
    const block = stateBlock(account.state);
    if (block) return { type: "reject", errors: [{ field: "card", code: block, message: translator(ctx.locale)(block) }] };
    return signedIn(ctx, account, 2, ["card"]);
  },
};
