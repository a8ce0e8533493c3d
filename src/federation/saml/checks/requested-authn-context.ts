import { type Level, levelFromAcr } from "../../../identity/levels.ts";
import { attribute, childrenNamed, NS, textOf } from "../xml.ts";
import { spidError } from "../errors.ts";
import type { Check, LevelRequirement } from "./context.ts";

const COMPARISONS = ["exact", "minimum", "better", "maximum"] as const;

/**
 * RequestedAuthnContext names one SPID level, SpidL1–L3 (SPID ErrorCode nr12), and Comparison
 * (exact by default) decides the level to sign in at and the most the assertion may state
 * (SAML core §3.3.2.2.1): exact — that level; minimum — at least that; better — above it;
 * maximum — as high as possible up to it. A level this tenant does not offer cannot be met.
 */
export const checkRequestedAuthnContext: Check = (check) => {
  const contexts = childrenNamed(check.request, NS.samlp, "RequestedAuthnContext");
  if (contexts.length !== 1) throw spidError(12, "RequestedAuthnContext is missing");
  const context = contexts[0]!;
  const comparison = attribute(context, "Comparison") ?? "exact";
  if (!(COMPARISONS as readonly string[]).includes(comparison)) throw spidError(12, `Comparison ${comparison} is not exact, minimum, better or maximum`);
  const refs = childrenNamed(context, NS.saml, "AuthnContextClassRef");
  if (refs.length !== 1 || childrenNamed(context, NS.saml, "AuthnContextDeclRef").length > 0) throw spidError(12, "there must be exactly one AuthnContextClassRef");
  const named = levelFromAcr(textOf(refs[0]) ?? "");
  if (named === undefined) throw spidError(12, "AuthnContextClassRef is not a SPID level");
  const offered = [...check.offeredLevels].sort();
  const highest = offered[offered.length - 1]!;
  let requirement: LevelRequirement | undefined;
  switch (comparison as LevelRequirement["comparison"]) {
    case "exact":
      if (offered.includes(named)) requirement = { comparison: "exact", named, signInAt: named, atMost: named };
      break;
    case "minimum":
      if (named <= highest) requirement = { comparison: "minimum", named, signInAt: named, atMost: highest };
      break;
    case "better": {
      const above = offered.find((l) => l > named);
      if (above !== undefined) requirement = { comparison: "better", named, signInAt: above, atMost: highest };
      break;
    }
    case "maximum": {
      const level = Math.min(named, highest) as Level;
      requirement = { comparison: "maximum", named, signInAt: level, atMost: level };
      break;
    }
  }
  if (!requirement) throw spidError(12, `SpidL${named} (${comparison}) cannot be met: this identity provider offers ${offered.map((l) => `SpidL${l}`).join(", ")}`);
  check.found.level = requirement;
};
