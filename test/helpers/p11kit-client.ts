import { connect } from "node:net";

/**
 * A p11-kit RPC client written from p11-kit's sources (rpc-message.c, rpc-transport.c), not from
 * Tessera's: what the newest p11-kit (0.26, protocol version 2) sends, including what Debian
 * bookworm's client never does (several frames in one write, length queries, multi-part signing,
 * mechanisms without the old NULL-parameter marker).
 */
export const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
export const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
/** The byte-array primitive: length and bytes. */
export const bytes = (b: Buffer | string) => {
  const value = Buffer.isBuffer(b) ? b : Buffer.from(b, "latin1");
  return Buffer.concat([u32(value.length), value]);
};
/** An 'ay' argument with data. */
export const ay = (b: Buffer | string) => Buffer.concat([Buffer.from([1]), bytes(b)]);

/** A reader of reply bodies. */
export class Body {
  offset = 0;
  constructor(readonly data: Buffer) {}
  u8() {
    return this.data[this.offset++]!;
  }
  u32() {
    const v = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u64() {
    const v = Number(this.data.readBigUInt64BE(this.offset));
    this.offset += 8;
    return v;
  }
  array() {
    const n = this.u32();
    const v = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  /** The call id and signature every reply starts with. */
  head() {
    return { id: this.u32(), signature: this.array().toString("latin1") };
  }
}

export async function p11kitClient(path: string, version = 2) {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let buffered = Buffer.alloc(0);
  const waiting = new Map<number, (body: Buffer) => void>();
  let answered: (v: number) => void;
  const negotiated = new Promise<number>((r) => (answered = r));
  let versionRead = false;
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (!versionRead) {
      versionRead = true;
      answered(buffered[0]!);
      buffered = buffered.subarray(1);
    }
    while (buffered.length >= 12) {
      const code = buffered.readUInt32BE(0);
      const options = buffered.readUInt32BE(4);
      const length = buffered.readUInt32BE(8);
      if (buffered.length < 12 + options + length) return;
      const body = buffered.subarray(12 + options, 12 + options + length);
      buffered = buffered.subarray(12 + options + length);
      waiting.get(code)?.(Buffer.from(body));
      waiting.delete(code);
    }
  });
  socket.write(Buffer.from([version]));
  let code = 0x10;
  const frame = (id: number, signature: string, args: Buffer[]) => {
    const body = Buffer.concat([u32(id), bytes(signature), ...args]);
    const mine = code++;
    const reply = new Promise<Body>((resolve) => waiting.set(mine, (b) => resolve(new Body(b))));
    return { data: Buffer.concat([u32(mine), u32(6), u32(body.length), Buffer.from("client"), body]), reply };
  };
  return {
    negotiated,
    /** One call; the reply's body. */
    call(id: number, signature: string, ...args: Buffer[]) {
      const f = frame(id, signature, args);
      socket.write(f.data);
      return f.reply;
    },
    /** Several calls in one write, as threads sharing the socket may send them. */
    pipelined(calls: [number, string, ...Buffer[]][]) {
      const frames = calls.map(([id, signature, ...args]) => frame(id, signature, args));
      socket.write(Buffer.concat(frames.map((f) => f.data)));
      return Promise.all(frames.map((f) => f.reply));
    },
    close: () => socket.destroy(),
  };
}
