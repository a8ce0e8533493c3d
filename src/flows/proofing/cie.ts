import { z } from "zod";
import type { Account } from "../../identity/accounts.ts";
import type { Actor } from "../../identity/deps.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { type ChipData, passiveAuthentication } from "../../pki/icao.ts";
import { rdnText } from "../../pki/names.ts";
import { recordAuditBy } from "../../audit/service.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { openCaseOf, type ProofingCase } from "./cases.ts";
import { approveCase } from "./decisions.ts";
import { addEvidence } from "./evidence.ts";
import { ProofingRefusal, trustAnchors } from "./signature.ts";

const base64 = z.string().regex(/^[A-Za-z0-9+/=\s]+$/, "must be Base64").max(200_000);

/** What the mobile app sends after reading the chip over NFC: the data groups and EF.SOD as read, in Base64. */
export const ChipUpload = z.object({ dg1: base64, dg11: base64, sod: base64 }).strict();

/** Names as the MRZ writes them: capitals without accents, anything else a space (ICAO 9303-3 §6 transliteration, simply). */
const mrzName = (name: string | null) =>
  (name ?? "")
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toUpperCase()
    .replace(/[^A-Z]+/g, " ")
    .trim();

/**
 * Identification by electronic document (seed 000, "Documento Elettronico", CIE by NFC): the app
 * submits the chip's DG1, DG11 and SOD; passive authentication proves them signed by the issuing
 * state (a CSCA of the tenant's list); the document must be an Italian identity card, unexpired,
 * of the applicant: names, date of birth and sex as declared, and the codice fiscale of DG11 the
 * request's. Then the identity is active; what fails is answered at once and changes nothing.
 */
export async function proofByCie(deps: PkiDeps, tenant: Tenant, account: Account, chip: ChipData, by: Actor, links: { accountUrl: string }): Promise<ProofingCase["state"]> {
  const proofing = await openCaseOf(deps, tenant, account, "cie");
  const refuse = async (reason: ConstructorParameters<typeof ProofingRefusal>[0], detail: string): Promise<never> => {
    await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.attempt_refused", subject: account.id, data: { case: proofing.id, method: "cie", reason, detail } });
    throw new ProofingRefusal(reason, detail);
  };
  const now = deps.clock.now();
  const checked = await passiveAuthentication(chip, await trustAnchors(deps, tenant, "csca"), now);
  if (!checked.ok) return refuse("chip_invalid", `${checked.problem}: ${checked.detail}`);
  const { mrz, details } = checked;
  if (mrz.issuingState !== "ITA" || !/^[CI]/.test(mrz.documentCode)) return refuse("wrong_document", `a ${mrz.documentCode} of ${mrz.issuingState}`);
  const today = new Date(now).toISOString().slice(2, 10).replace(/-/g, "");
  if (mrz.expiryDate < today) return refuse("document_invalid", `expired on ${mrz.expiryDate}`);
  const declaredBirth = (account.birthDate ?? "").slice(2).replace(/-/g, "");
  const given = mrzName(account.givenName);
  if (mrz.surname !== mrzName(account.familyName) || !mrz.givenNames || !given.startsWith(mrz.givenNames) || mrz.birthDate !== declaredBirth || (mrz.sex ?? account.sex) !== account.sex) {
    return refuse("data_mismatch", "names, date of birth or sex differ from the request");
  }
  if (!details?.personalNumber) return refuse("chip_invalid", "DG11 carries no personal number");
  if (details.personalNumber.toUpperCase() !== account.fiscalCode) return refuse("fiscal_code_mismatch", `the document is for ${details.personalNumber}`);
  if (account.documentType === "carta_identita" && account.documentNumber && account.documentNumber.replace(/\s/g, "").toUpperCase() !== mrz.documentNumber) {
    return refuse("data_mismatch", "the document number differs from the one declared");
  }
  return deps.repos.atomically(async (repos) => {
    const tx = { ...deps, repos };
    for (const [kind, data] of [["chip_dg1", chip.dg1], ["chip_dg11", chip.dg11], ["chip_sod", chip.sod]] as const) {
      if (data) await addEvidence(tx, tenant, proofing.id, { kind, mediaType: "application/octet-stream", content: data }, by);
    }
    const verified = { documentNumber: mrz.documentNumber, expiry: mrz.expiryDate, documentSigner: rdnText(checked.documentSigner.subject) };
    return approveCase(tx, tenant, proofing, { verified }, { ...by, accountId: null }, links);
  });
}
