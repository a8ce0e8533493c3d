import { belfioreConnector } from "@marketto/belfiore-connector-embedded";

/**
 * Places of birth by Belfiore code, from the bundled ANPR list (Ministero dell'Interno, CC BY 4.0):
 * every Italian municipality, including those since merged or renamed (a person born in one keeps
 * its code), and every foreign country (codes Z…).
 */
export interface Place {
  code: string;
  name: string;
  /** Province (two letters) for a municipality; null for a foreign country. */
  province: string | null;
  foreign: boolean;
  /** When the municipality or country existed under this code (YYYY-MM-DD). */
  validFrom: string;
  validTo: string | null;
}

interface BelfiorePlace {
  belfioreCode: string;
  name: string;
  province?: string;
  creationDate?: Date;
  expirationDate?: Date;
}

function toPlace(p: BelfiorePlace): Place {
  const to = p.expirationDate && p.expirationDate.getUTCFullYear() < 9999 ? p.expirationDate.toISOString().slice(0, 10) : null;
  return {
    code: p.belfioreCode,
    name: p.name,
    province: p.province ?? null,
    foreign: p.belfioreCode.startsWith("Z"),
    validFrom: (p.creationDate ?? new Date(Date.UTC(1861, 0, 1))).toISOString().slice(0, 10),
    validTo: to,
  };
}

export async function placeByCode(code: string): Promise<Place | undefined> {
  if (!/^[A-Z]\d{3}$/i.test(code)) return undefined;
  const found = (await belfioreConnector.findByCode(code.toUpperCase())) as BelfiorePlace | null;
  return found ? toPlace(found) : undefined;
}

const fold = (s: string) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/[^a-z]/g, "");

/**
 * Places whose name is `typed` (case, accents and punctuation ignored), optionally "Name (PR)" to
 * pick the province. Several results mean the name alone is ambiguous.
 */
export async function placesNamed(typed: string): Promise<Place[]> {
  const match = /^(.*?)\s*(?:\(([A-Za-z]{2})\))?\s*$/.exec(typed.trim());
  const name = match?.[1] ?? "";
  const province = match?.[2]?.toUpperCase();
  if (fold(name).length < 2) return [];
  const found = ((await belfioreConnector.searchByName(name)) ?? []) as BelfiorePlace[];
  return found
    .map(toPlace)
    .filter((p) => fold(p.name) === fold(name) && (province === undefined || p.province === province));
}

/** Whether the place existed under its code on `date` (YYYY-MM-DD). */
export function existedOn(place: Place, date: string): boolean {
  return place.validFrom <= date && (place.validTo === null || date <= place.validTo);
}
