import { describe, expect, it } from "vitest";
import { CKA, CKM } from "./pkcs11.ts";
import { nativeLength, Reader, valueKind, Writer } from "./wire.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("the p11-kit RPC encoding", () => {
  it("reads a NULL byte array both ways p11-kit's releases write it (0.24: 00 len, 0.25+: 01 ffffffff)", () => {
    expect(new Reader(hex("00 00000000")).byteArgument()).toBeNull();
    expect(new Reader(hex("01 ffffffff")).byteArgument()).toBeNull();
    expect(new Reader(hex("01 00000003 616263")).byteArgument()).toEqual(Buffer.from("abc"));
    expect(() => new Reader(hex("01 00000005 6162")).byteArgument()).toThrow("message too short");
  });

  it("skips a mechanism's parameter whatever the release: 0.24/0.25 write ffffffff after CKM_RSA_PKCS, 0.26 nothing", () => {
    // C_SignInit's arguments after the session: M, then the key handle (8 bytes).
    const legacy = new Reader(hex("00000001 ffffffff 0000000000000005"));
    expect(legacy.mechanism(8)).toBe(CKM.RSA_PKCS);
    expect(legacy.ulong()).toBe(5);
    const current = new Reader(hex("00000040 0000000000000005"));
    expect(current.mechanism(8)).toBe(CKM.SHA256_RSA_PKCS);
    expect(current.ulong()).toBe(5);
  });

  it("reads a template by each attribute's kind: CK_ULONG as 64 bits, CK_BBOOL as a byte, the rest as byte arrays", () => {
    const template = new Reader(hex("00000003 00000000 01 00000008 0000000000000003 00000001 01 00000001 01 00000102 01 00000002 00000002 abcd")).attributes();
    expect(template).toEqual(
      new Map<number, unknown>([
        [CKA.CLASS, 3],
        [CKA.TOKEN, true],
        [CKA.ID, hex("abcd")],
      ]),
    );
  });

  it("reads the attribute list of C_GetAttributeValue with or without the nested list trixie's client adds after a template type", () => {
    const plain = hex("00000002 00000000 00000008 40000211 00000000");
    expect(new Reader(plain).attributeRequests("never")).toEqual([
      { type: CKA.CLASS, length: 8 },
      { type: 0x40000211, length: 0 },
    ]);
    // 0.25.4–0.25.5 always follow a template type with a nested count, here 0: "never" leaves bytes over.
    const nested = hex("00000002 00000000 00000008 40000211 00000000 00000000");
    const never = new Reader(nested);
    never.attributeRequests("never");
    expect(never.remaining).toBe(4);
    const always = new Reader(nested);
    expect(always.attributeRequests("always")).toHaveLength(2);
    expect(always.remaining).toBe(0);
  });

  it("writes each attribute as the client's table expects, with the length its memory needs", () => {
    const out = new Writer().attribute(CKA.CLASS, 1).attribute(CKA.PRIVATE, true).attribute(CKA.LABEL, Buffer.from("Ayto")).attribute(CKA.ALLOWED_MECHANISMS, [CKM.ECDSA]).attribute(CKA.VALUE, null).bytes();
    expect(out.toString("hex")).toBe(
      [
        "00000000 01 00000008 0000000000000001",
        "00000002 01 00000001 01",
        "00000003 01 00000004 00000004 4179746f",
        "40000600 01 00000008 00000001 0000000000001041",
        "00000011 00",
      ]
        .join("")
        .replace(/\s+/g, ""),
    );
    expect(valueKind(CKA.DESTROYABLE)).toBe("bytes"); // not in p11-kit's table: the client's native byte
    expect(nativeLength(CKA.DESTROYABLE, false)).toBe(1);
    expect(nativeLength(CKA.MODULUS_BITS, 2048)).toBe(8);
  });

  it("answers a length query or a buffer too small with the length alone, and fixed strings padded with their length", () => {
    expect(new Writer().output({ length: 256 }).bytes().toString("hex")).toBe("0000000100");
    expect(new Writer().ulongs([1], 0).bytes().toString("hex")).toBe("0000000001");
    expect(new Writer().ulongs([1], 1).bytes().toString("hex")).toBe("01000000010000000000000001");
    expect(new Writer().padded("Tessera", 10).bytes().toString("hex")).toBe(`0000000a${Buffer.from("Tessera   ").toString("hex")}`);
    // A multi-byte character is never cut in half.
    expect(new Writer().padded("Ayuntamiento de Álava", 17).bytes().subarray(4).toString("utf8")).toBe("Ayuntamiento de  ");
  });
});
