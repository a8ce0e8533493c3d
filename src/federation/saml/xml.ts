import { DOMParser, type Document, type Element } from "@xmldom/xmldom";

/**
 * XML as the SAML endpoints read it: never a DTD (so no entity declarations, no entity expansion,
 * no external resources; xmldom fetches nothing in any case), never more than a size limit, and
 * any parser complaint is a refusal rather than a guess.
 */
export const NS = {
  samlp: "urn:oasis:names:tc:SAML:2.0:protocol",
  saml: "urn:oasis:names:tc:SAML:2.0:assertion",
  md: "urn:oasis:names:tc:SAML:2.0:metadata",
  ds: "http://www.w3.org/2000/09/xmldsig#",
  ec: "http://www.w3.org/2001/10/xml-exc-c14n#",
  xs: "http://www.w3.org/2001/XMLSchema",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
  spid: "https://spid.gov.it/saml-extensions",
} as const;

/** The largest SAML message accepted, decoded (SPID requests are a few kilobytes). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** SP metadata can list many certificates and attribute sets. */
export const MAX_METADATA_BYTES = 1024 * 1024;

export class XmlRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlRejected";
  }
}

export function parseXml(text: string, maxBytes = MAX_MESSAGE_BYTES): Document {
  if (Buffer.byteLength(text, "utf8") > maxBytes) throw new XmlRejected(`larger than ${maxBytes} bytes`);
  // Refused before parsing: a document type declaration is the door to entity expansion.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlRejected("document type declarations are not accepted");
  let problem: string | undefined;
  const parser = new DOMParser({
    onError: (level, message) => {
      problem ??= `${level}: ${message.split("\n")[0]}`;
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, "text/xml");
  } catch (error) {
    throw new XmlRejected(`not well-formed: ${(error as Error).message.split("\n")[0]}`);
  }
  if (problem) throw new XmlRejected(`not well-formed: ${problem}`);
  if (doc.doctype) throw new XmlRejected("document type declarations are not accepted");
  if (!doc.documentElement) throw new XmlRejected("no root element");
  return doc;
}

/** Child elements (not text, comments or processing instructions). */
export function elements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) if (node.nodeType === 1) out.push(node as Element);
  return out;
}

export function childrenNamed(parent: Element, ns: string, name: string): Element[] {
  return elements(parent).filter((e) => e.namespaceURI === ns && e.localName === name);
}

export function childNamed(parent: Element, ns: string, name: string): Element | undefined {
  return childrenNamed(parent, ns, name)[0];
}

export function isElement(element: Element | null | undefined, ns: string, name: string): element is Element {
  return !!element && element.namespaceURI === ns && element.localName === name;
}

/** An attribute's value, or undefined when absent (getAttribute gives "" or null by implementation). */
export function attribute(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? (element.getAttribute(name) ?? "") : undefined;
}

/** Element text with surrounding whitespace trimmed. */
export function textOf(element: Element | undefined): string | undefined {
  return element?.textContent?.trim();
}

/** Every element in the document whose ID attribute is `id` (more than one means an attack). */
export function elementsWithId(doc: Document, id: string): Element[] {
  const found: Element[] = [];
  const walk = (el: Element) => {
    if (el.getAttribute("ID") === id || el.getAttribute("Id") === id || el.getAttribute("id") === id) found.push(el);
    for (const child of elements(el)) walk(child);
  };
  walk(doc.documentElement!);
  return found;
}

/**
 * Escaping as exclusive canonicalisation writes it (XML-C14N §2.3), so that what Tessera writes is
 * already the canonical form it signs.
 */
export function escapeText(value: string): string {
  return value.replace(/[&<>\r]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&#xD;"));
}

export function escapeAttribute(value: string): string {
  return value.replace(/[&<"\t\n\r]/g, (c) => ({ "&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;" })[c]!);
}

/**
 * An element in canonical form: namespace declarations first, sorted by prefix, then attributes
 * sorted by name (all of ours are unqualified, but for xsi:type, which sorts by its namespace
 * URI after them), and an explicit end tag.
 */
export function el(name: string, attrs: Record<string, string | undefined>, content: string | string[] = ""): string {
  return `${startTag(name, attrs)}${Array.isArray(content) ? content.join("") : content}</${name}>`;
}

/** The start tag of `el`'s element alone, for a document written in parts (head, signature, tail). */
export function startTag(name: string, attrs: Record<string, string | undefined>): string {
  const ns: string[] = [];
  const plain: string[] = [];
  const qualified: string[] = [];
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    (key.startsWith("xmlns") ? ns : key.includes(":") ? qualified : plain).push(key);
  }
  ns.sort();
  plain.sort();
  qualified.sort();
  const rendered = [...ns, ...plain, ...qualified].map((k) => ` ${k}="${escapeAttribute(attrs[k]!)}"`).join("");
  return `<${name}${rendered}>`;
}

/** Text content in canonical form. */
export const text = escapeText;
