/**
 * The p11-kit RPC message encoding (p11-kit/rpc-message.c, the protocol of p11-kit-client.so and
 * `p11-kit remote`): big-endian integers, CK_ULONG as 64 bits, byte arrays with a 32-bit length
 * (0xffffffff for NULL), attribute values encoded by their type. Only what a token server reads
 * and writes; the reference for each rule is the function named beside it.
 */
import { CKA } from "./pkcs11.ts";

const NULL_LENGTH = 0xffffffff;

/** A message that cannot be read as its signature says (the client sent something else). */
export class WireError extends Error {}

/** How p11-kit encodes an attribute's value (`map_attribute_to_value_type`); anything unlisted is bytes. */
export type ValueKind = "byte" | "ulong" | "attributes" | "mechanisms" | "date" | "bytes";

const BYTE_TYPES = new Set([0x1, 0x2, 0x86, 0x103, 0x104, 0x105, 0x106, 0x107, 0x108, 0x109, 0x10a, 0x10b, 0x10c, 0x162, 0x163, 0x164, 0x165, 0x170, 0x171, 0x200, 0x202, 0x210, 0x301, 0x302, 0x405]);
const ULONG_TYPES = new Set([0x0, 0x80, 0x87, 0x88, 0x100, 0x121, 0x133, 0x134, 0x160, 0x161, 0x166, 0x201, 0x300, 0x400, 0x401, 0x402, 0x403, 0x404, 0x406, 0x500]);
/** CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE, CKA_DERIVE_TEMPLATE. */
export const TEMPLATE_TYPES = new Set([0x40000211, 0x40000212, 0x40000213]);

export function valueKind(type: number): ValueKind {
  if (BYTE_TYPES.has(type)) return "byte";
  if (ULONG_TYPES.has(type)) return "ulong";
  if (TEMPLATE_TYPES.has(type)) return "attributes";
  if (type === CKA.ALLOWED_MECHANISMS) return "mechanisms";
  if (type === 0x110 || type === 0x111) return "date";
  return "bytes";
}

/** A value as the client's memory holds it (CK_ULONG: 8 bytes little-endian on the 64-bit desktops). */
export type Value = number | boolean | Buffer | number[];

export function nativeBytes(value: Value): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "boolean") return Buffer.from([value ? 1 : 0]);
  const ulongs = Array.isArray(value) ? value : [value];
  const out = Buffer.alloc(ulongs.length * 8);
  ulongs.forEach((v, i) => out.writeBigUInt64LE(BigInt(v), i * 8));
  return out;
}

export class Reader {
  private offset = 0;

  constructor(private readonly data: Buffer) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  private take(n: number): Buffer {
    if (n < 0 || this.offset + n > this.data.length) throw new WireError("message too short");
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  byte(): number {
    return this.take(1)[0]!;
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  /** CK_ULONG ('u'): 64 bits; PKCS#11 values stay far below 2^53 on this side. */
  ulong(): number {
    return Number(this.take(8).readBigUInt64BE(0));
  }

  skip(n: number): void {
    this.take(n);
  }

  /** Everything not read yet. */
  bytesLeft(): Buffer {
    return this.take(this.remaining);
  }

  /** The byte-array primitive (`p11_rpc_buffer_get_byte_array`): null for a NULL pointer. */
  array(): Buffer | null {
    const length = this.u32();
    if (length === NULL_LENGTH) return null;
    if (length >= 0x7fffffff) throw new WireError("byte array too long");
    return Buffer.from(this.take(length));
  }

  /** An 'ay' argument: the data, or null for NULL (0.24 sends `00 len`, 0.25 `01 ffffffff`). */
  byteArgument(): Buffer | null {
    const valid = this.byte();
    if (valid === 0) {
      this.u32();
      return null;
    }
    return this.array();
  }

  /** An 'fy' or 'fu' argument: the caller's capacity (0: a NULL buffer, a length query). */
  capacity(): number {
    return this.u32();
  }

  /** An 'aA' argument (`p11_rpc_message_get_attribute`): each attribute with its value, by type. */
  attributes(): Map<number, Value | null> {
    const count = this.u32();
    const out = new Map<number, Value | null>();
    for (let i = 0; i < count; i++) {
      const type = this.u32();
      const valid = this.byte();
      if (valid === 0) {
        out.set(type, null);
        continue;
      }
      this.u32(); // the length the client's struct says; the typed value below is what counts
      out.set(type, this.value(type));
    }
    return out;
  }

  private value(type: number): Value | null {
    switch (valueKind(type)) {
      case "byte":
        return this.byte() !== 0;
      case "ulong":
        return this.ulong();
      case "mechanisms": {
        const n = this.u32();
        return Array.from({ length: n }, () => this.ulong());
      }
      case "attributes":
        this.attributes(); // nested templates: read past, a read-only token matches nothing on them
        return null;
      default:
        return this.array();
    }
  }

  /**
   * An 'fA' argument (`p11_rpc_message_write_attribute_buffer`): the types asked and the room the
   * caller has for each (0: a size query). Template types may carry a nested list, depending on
   * the client's release; the caller tries each way (it is the message's last argument).
   */
  attributeRequests(nested: "never" | "always" | "when-sized"): { type: number; length: number }[] {
    const count = this.u32();
    const out: { type: number; length: number }[] = [];
    for (let i = 0; i < count; i++) {
      const type = this.u32();
      const length = this.u32();
      if (TEMPLATE_TYPES.has(type) && (nested === "always" || (nested === "when-sized" && length !== 0))) this.attributeRequests(nested);
      out.push({ type, length });
    }
    return out;
  }

  /**
   * A CK_MECHANISM ('M'): its type. Its parameter is skipped: the mechanisms the card signs with
   * have none, and the encoding of "none" changed across releases (0.24/0.25 `ffffffff`, 0.26
   * nothing), so the caller says how many bytes follow it in the message.
   */
  mechanism(trailing: number): number {
    const type = this.u32();
    this.skip(this.remaining - trailing);
    return type;
  }
}

export class Writer {
  private readonly chunks: Buffer[] = [];

  byte(value: number): this {
    this.chunks.push(Buffer.from([value]));
    return this;
  }

  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0, 0);
    this.chunks.push(b);
    return this;
  }

  ulong(value: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(value)), 0);
    this.chunks.push(b);
    return this;
  }

  array(value: Buffer | null): this {
    if (value === null) return this.u32(NULL_LENGTH);
    this.u32(value.length);
    this.chunks.push(value);
    return this;
  }

  /** An 's': a fixed-size field padded with spaces, still carrying its length (UTF-8 cut whole). */
  padded(text: string, size: number): this {
    let bytes = Buffer.from(text, "utf8");
    while (bytes.length > size) bytes = Buffer.from((text = text.slice(0, -1)), "utf8");
    return this.array(Buffer.concat([bytes, Buffer.alloc(size - bytes.length, 0x20)]));
  }

  version(major: number, minor: number): this {
    return this.byte(major).byte(minor);
  }

  /** An 'ay' result: the bytes, or only the length they need (a length query, a buffer too small). */
  output(value: Buffer | { length: number }): this {
    if (Buffer.isBuffer(value)) return this.byte(1).array(value);
    return this.byte(0).u32(value.length);
  }

  /** An 'au' result: the ulongs, or only their count (a count query, an array too small). */
  ulongs(values: number[], capacity: number): this {
    if (capacity < values.length) return this.byte(0).u32(values.length);
    this.byte(1).u32(values.length);
    for (const v of values) this.ulong(v);
    return this;
  }

  /** One element of an 'aA' result: the value as the client's table encodes the type, or "unavailable". */
  attribute(type: number, value: Value | null): this {
    this.u32(type);
    if (value === null) return this.byte(0);
    this.byte(1);
    const kind = valueKind(type);
    if (kind === "byte") return this.u32(1).byte(value === true || value === 1 ? 1 : 0);
    if (kind === "ulong") return this.u32(8).ulong(typeof value === "number" ? value : 0);
    if (kind === "mechanisms") {
      const list = Array.isArray(value) ? value : [];
      this.u32(list.length * 8).u32(list.length);
      for (const m of list) this.ulong(m);
      return this;
    }
    const bytes = nativeBytes(value);
    return this.u32(bytes.length).array(bytes);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The size of a value in the client's memory (what C_GetAttributeValue's length compares to). */
export function nativeLength(type: number, value: Value): number {
  const kind = valueKind(type);
  if (kind === "byte") return 1;
  if (kind === "ulong") return 8;
  return nativeBytes(value).length;
}
