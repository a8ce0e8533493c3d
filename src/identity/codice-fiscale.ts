/**
 * The Italian codice fiscale of a person (DM 23 dicembre 1976; DPR 605/1973): 16 characters,
 * surname (3) name (3) year (2) month (1) day and sex (2) place of birth (4, Belfiore code)
 * check character (1). Pure functions.
 *
 * Omocodia: when two people would get the same code, the Agenzia delle Entrate replaces digits,
 * from the right, with letters (0→L … 9→V). Such a code is as valid as the original and decodes
 * to the same data.
 */
const FORMAT = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;
const MONTHS = "ABCDEHLMPRST";
const OMOCODIA = "LMNPQRSTUV";
/** Positions (0-based) whose digits omocodia may turn into letters. */
const NUMERIC_POSITIONS = [6, 7, 9, 10, 12, 13, 14];

const ODD: Record<string, number> = Object.fromEntries(
  [..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"].map((c, i) => [
    c,
    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23][i]!,
  ]),
);

/** The check character of the first 15 characters. */
export function checkCharacter(first15: string): string {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const c = first15[i]!;
    // Positions are counted from 1: odd positions use the odd table, even ones the plain value.
    sum += i % 2 === 0 ? ODD[c]! : /\d/.test(c) ? Number(c) : c.charCodeAt(0) - 65;
  }
  return String.fromCharCode(65 + (sum % 26));
}

export interface DecodedCodiceFiscale {
  /** Upper case, without spaces. */
  code: string;
  surnameCode: string;
  nameCode: string;
  /** Two-digit year. */
  year: number;
  month: number;
  day: number;
  sex: "M" | "F";
  /** Belfiore code of the place of birth. */
  place: string;
  /** Whether omocodia letters stand in for digits. */
  omocode: boolean;
}

export type CodiceFiscaleProblem = "format" | "check_character" | "date";

/** Decodes a codice fiscale, checking its format, check character and date. */
export function decodeCodiceFiscale(raw: string): { ok: true; value: DecodedCodiceFiscale } | { ok: false; problem: CodiceFiscaleProblem } {
  const code = raw.toUpperCase().replace(/\s/g, "");
  if (!FORMAT.test(code)) return { ok: false, problem: "format" };
  if (checkCharacter(code.slice(0, 15)) !== code[15]) return { ok: false, problem: "check_character" };
  const plain = [...code];
  for (const i of NUMERIC_POSITIONS) {
    const letter = OMOCODIA.indexOf(plain[i]!);
    if (letter >= 0) plain[i] = String(letter);
  }
  const digits = plain.join("");
  const dayAndSex = Number(digits.slice(9, 11));
  const day = dayAndSex > 40 ? dayAndSex - 40 : dayAndSex;
  const month = MONTHS.indexOf(digits[8]!) + 1;
  if (day < 1 || day > 31) return { ok: false, problem: "date" };
  return {
    ok: true,
    value: {
      code,
      surnameCode: code.slice(0, 3),
      nameCode: code.slice(3, 6),
      year: Number(digits.slice(6, 8)),
      month,
      day,
      sex: dayAndSex > 40 ? "F" : "M",
      place: digits.slice(11, 15),
      omocode: digits !== code,
    },
  };
}

/** Upper-case A–Z only: accents removed ("Nicolò" → "NICOLO"), spaces and apostrophes dropped. */
function letters(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toUpperCase()
    .replace(/[^A-Z]/g, "");
}

const isVowel = (c: string) => "AEIOU".includes(c);

/** Surname part: consonants, then vowels, padded with X, first three. */
export function surnameCode(surname: string): string {
  const l = letters(surname);
  return ([...l].filter((c) => !isVowel(c)).join("") + [...l].filter(isVowel).join("") + "XXX").slice(0, 3);
}

/** Name part: with four or more consonants the 1st, 3rd and 4th; otherwise as for the surname. */
export function nameCode(name: string): string {
  const l = letters(name);
  const consonants = [...l].filter((c) => !isVowel(c));
  if (consonants.length >= 4) return consonants[0]! + consonants[2]! + consonants[3]!;
  return (consonants.join("") + [...l].filter(isVowel).join("") + "XXX").slice(0, 3);
}

export interface PersonForCode {
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD */
  birthDate: string;
  sex: "M" | "F";
  /** Belfiore code. */
  birthPlace: string;
}

export type Mismatch = "family_name" | "given_name" | "birth_date" | "sex" | "birth_place";

/** Which of the person's data the code does not match. */
export function codiceFiscaleMismatches(decoded: DecodedCodiceFiscale, person: PersonForCode): Mismatch[] {
  const mismatches: Mismatch[] = [];
  if (decoded.surnameCode !== surnameCode(person.familyName)) mismatches.push("family_name");
  if (decoded.nameCode !== nameCode(person.givenName)) mismatches.push("given_name");
  const [y, m, d] = person.birthDate.split("-").map(Number) as [number, number, number];
  if (decoded.year !== y % 100 || decoded.month !== m || decoded.day !== d) mismatches.push("birth_date");
  if (decoded.sex !== person.sex) mismatches.push("sex");
  if (decoded.place !== person.birthPlace.toUpperCase()) mismatches.push("birth_place");
  return mismatches;
}

/** The code a person's data gives (without omocodia): for tests and for suggesting the right one. */
export function computeCodiceFiscale(person: PersonForCode): string {
  const [y, m, d] = person.birthDate.split("-").map(Number) as [number, number, number];
  const first15 =
    surnameCode(person.familyName) +
    nameCode(person.givenName) +
    String(y % 100).padStart(2, "0") +
    MONTHS[m - 1]! +
    String(person.sex === "F" ? d + 40 : d).padStart(2, "0") +
    person.birthPlace.toUpperCase();
  return first15 + checkCharacter(first15);
}
