import { generateKeyPairSync } from "node:crypto";
import { DOMParser } from "@xmldom/xmldom";
import fc from "fast-check";
import { SignedXml } from "xml-crypto";
import { describe, expect, it } from "vitest";
import type { SamlCredential } from "./credential.ts";
import { successResponse } from "./response.ts";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const credential: SamlCredential = { id: "test", privateKey, publicKey, certificate: "MIIB", notAfter: 0 };
const publicPem = publicKey.export({ format: "pem", type: "spki" }).toString();

function response(value: string, entityId = "https://idp.example.it/t/national") {
  return successResponse(
    {
      idpEntityId: entityId,
      spEntityId: "https://sp.example.it/metadata?a=1&b=2",
      destination: "https://sp.example.it/acs",
      inResponseTo: "_req",
      now: Date.UTC(2026, 10, 24, 9),
      validForMs: 300_000,
      nameId: "_name",
      sessionIndex: "_session",
      authnInstant: Date.UTC(2026, 10, 24, 9),
      level: 2,
      attributes: [
        { name: "name", value },
        { name: "dateOfBirth", value: "1980-01-01" },
      ],
    },
    credential,
  );
}

/** Verifies the assertion's signature with xml-crypto (which canonicalises what it reads) and returns the signed bytes. */
function verifiedAssertion(xml: string): string {
  const doc = new DOMParser().parseFromString(xml, "text/xml");
  const signature = doc.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0]!;
  const verifier = new SignedXml({ publicCert: publicPem, getCertFromKeyInfo: () => null });
  verifier.loadSignature(signature);
  expect(verifier.checkSignature(xml)).toBe(true);
  return verifier.getSignedReferences()[0]!;
}

/** Characters XML 1.0 allows (§2.2), without lone surrogates. */
const xmlChar = fc.oneof(
  fc.constantFrom("&", "<", ">", '"', "'", "\r", "\n", "\t", "è", "€", "𝄞", " "),
  // eslint-disable-next-line no-control-regex -- the control characters XML forbids are exactly what is filtered out
  fc.string({ unit: "grapheme", maxLength: 1 }).filter((c) => c.length > 0 && !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(c)),
);

describe("assertions written in canonical form", () => {
  it("verify with xml-crypto, whatever the attribute values contain", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(xmlChar, { maxLength: 40 }).map((cs) => cs.join("")), async (value) => {
        const xml = await response(value);
        const signed = verifiedAssertion(xml);
        // What a parser reads back is the value as given (\r normalised as XML parsers must).
        const read = new DOMParser().parseFromString(signed, "text/xml").getElementsByTagNameNS("urn:oasis:names:tc:SAML:2.0:assertion", "AttributeValue")[0]!.textContent;
        expect(read).toBe(value);
      }),
      { numRuns: 60 },
    );
  });

  it("states the level, the audience and the attribute types", async () => {
    const signed = verifiedAssertion(await response("Zoë"));
    expect(signed).toContain("<saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2</saml:AuthnContextClassRef>");
    expect(signed).toContain("<saml:Audience>https://sp.example.it/metadata?a=1&amp;b=2</saml:Audience>");
    expect(signed).toContain('<saml:AttributeValue xsi:type="xs:date">1980-01-01</saml:AttributeValue>');
    expect(signed).toContain('NotOnOrAfter="2026-11-24T09:05:00Z"');
  });

  it("fails verification when a byte of the assertion changes", async () => {
    const xml = (await response("Mario")).replace(">Mario<", ">Maria<");
    const doc = new DOMParser().parseFromString(xml, "text/xml");
    const verifier = new SignedXml({ publicCert: publicPem, getCertFromKeyInfo: () => null });
    verifier.loadSignature(doc.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature")[0]!);
    let valid: boolean;
    try {
      valid = verifier.checkSignature(xml);
    } catch {
      valid = false;
    }
    expect(valid).toBe(false);
  });
});
