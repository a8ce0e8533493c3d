import { PDF, StandardFonts } from "@libpdf/core";
import type { Account } from "../../identity/accounts.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { ProofingCase } from "./cases.ts";

const A4 = { width: 595.28, height: 841.89 };

/**
 * The contract an applicant who chose the qualified signature signs (seed 000: "la sottoscrizione
 * con un certificato valido della documentazione contrattuale"): the identity request's data, the
 * request number and the contract's version, as a PDF. Made once per case and kept as evidence:
 * what comes back signed must be exactly this file.
 */
export async function contractPdf(tenant: Tenant, account: Account, proofing: ProofingCase, now: number): Promise<Uint8Array> {
  const pdf = PDF.create();
  pdf.setTitle(`${tenant.displayName}: contratto ${proofing.request}`);
  const page = pdf.addPage(A4);
  let y = A4.height - 70;
  const line = (text: string, options: { size?: number; bold?: boolean; gap?: number } = {}) => {
    page.drawText(text, { x: 56, y, size: options.size ?? 10.5, font: options.bold ? StandardFonts.HelveticaBold : StandardFonts.Helvetica, maxWidth: A4.width - 112, lineHeight: 14 });
    y -= options.gap ?? 16;
  };
  const version = tenant.policy.enrolment?.versions.contract ?? "1";
  line(`${tenant.displayName}`, { size: 16, bold: true, gap: 24 });
  line("Contratto per il rilascio di un'identità digitale SPID / SPID digital identity contract", { size: 12, bold: true, gap: 22 });
  line(`Richiesta / Request: ${proofing.request}    Versione / Version: ${version}    Data / Date: ${new Date(now).toISOString().slice(0, 10)}`, { gap: 26 });
  line("Titolare / Holder", { bold: true });
  const rows: [string, string | null][] = [
    ["Nome / Given name", account.givenName],
    ["Cognome / Family name", account.familyName],
    ["Codice fiscale", account.fiscalCode],
    ["Data di nascita / Date of birth", account.birthDate],
    ["Sesso / Sex", account.sex],
    ["Indirizzo / Address", [account.address, account.postalCode, account.city, account.province].filter(Boolean).join(", ")],
    ["E-mail", account.email],
    ["Cellulare / Mobile", account.phone],
    ["Documento / Document", [account.documentType, account.documentNumber, account.documentIssuer, account.documentExpiryDate].filter(Boolean).join(", ")],
  ];
  for (const [label, value] of rows) line(`${label}: ${value ?? "-"}`);
  y -= 10;
  line("Il titolare chiede il rilascio dell'identità digitale e dichiara che i dati sopra indicati sono veri.", { gap: 14 });
  line("Firmando questo documento con il proprio certificato qualificato il titolare si identifica (Regolamento AgID, art. 7).", { gap: 14 });
  line("The holder requests a digital identity, declares the data above true, and identifies themselves by signing", { gap: 14 });
  line("this document with their own qualified certificate.", { gap: 14 });
  return pdf.save();
}
