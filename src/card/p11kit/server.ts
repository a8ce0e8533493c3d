import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";
import type { CscClient } from "../csc-client.ts";
import type { Prompter } from "../prompt.ts";
import type { CardSession } from "../session.ts";
import { VirtualCardToken } from "../token.ts";
import { CKR, Pkcs11Error } from "./pkcs11.ts";
import { Reader, TEMPLATE_TYPES, type Value, WireError, Writer, nativeLength } from "./wire.ts";

/** Where p11-kit-client.so looks when P11_KIT_SERVER_ADDRESS is not set (p11-kit/client.c). */
export function defaultSocketPath(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (!runtime) throw new TypeError("XDG_RUNTIME_DIR is not set: give the socket with --socket");
  return join(runtime, "p11-kit", "pkcs11");
}

/** Where p11-kit-client.so is on this machine (Debian's p11-kit-modules; Fedora's p11-kit-server), if anywhere. */
export function clientModulePath(): string | undefined {
  const triplet = { x64: "x86_64", arm64: "aarch64" }[process.arch as string] ?? process.arch;
  return [`/usr/lib/${triplet}-linux-gnu/pkcs11/p11-kit-client.so`, "/usr/lib64/pkcs11/p11-kit-client.so", "/usr/lib/pkcs11/p11-kit-client.so"].find((path) => existsSync(path));
}

/** What the client sends in C_Initialize to say it speaks this protocol (P11_RPC_HANDSHAKE). */
const HANDSHAKE = "PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1";
/** The largest message accepted: a PDF's digest or a certificate is far smaller. */
const MAX_MESSAGE = 16 * 1024 * 1024;
const CKR_NO_EVENT = 0x08;
const CKF_DONT_BLOCK = 0x01;

/**
 * The calls the card answers, with their request and response signatures (p11-kit's
 * `p11_rpc_calls` table). Every other call, known or not, is answered CKR_FUNCTION_NOT_SUPPORTED
 * without reading its arguments: the token is read-only and signs only.
 */
const CALLS: Record<number, { name: string; request: string; response: string }> = {
  1: { name: "C_Initialize", request: "ayyay", response: "" },
  2: { name: "C_Finalize", request: "", response: "" },
  3: { name: "C_GetInfo", request: "", response: "vsusv" },
  4: { name: "C_GetSlotList", request: "yfu", response: "au" },
  5: { name: "C_GetSlotInfo", request: "u", response: "ssuvv" },
  6: { name: "C_GetTokenInfo", request: "u", response: "ssssuuuuuuuuuuuvvs" },
  7: { name: "C_GetMechanismList", request: "ufu", response: "au" },
  8: { name: "C_GetMechanismInfo", request: "uu", response: "uuu" },
  10: { name: "C_OpenSession", request: "uu", response: "u" },
  11: { name: "C_CloseSession", request: "u", response: "" },
  12: { name: "C_CloseAllSessions", request: "u", response: "" },
  13: { name: "C_GetSessionInfo", request: "u", response: "uuuu" },
  18: { name: "C_Login", request: "uuay", response: "" },
  19: { name: "C_Logout", request: "u", response: "" },
  24: { name: "C_GetAttributeValue", request: "uufA", response: "aAu" },
  26: { name: "C_FindObjectsInit", request: "uaA", response: "" },
  27: { name: "C_FindObjects", request: "ufu", response: "au" },
  28: { name: "C_FindObjectsFinal", request: "u", response: "" },
  42: { name: "C_SignInit", request: "uMu", response: "" },
  43: { name: "C_Sign", request: "uayfy", response: "ay" },
  44: { name: "C_SignUpdate", request: "uay", response: "" },
  45: { name: "C_SignFinal", request: "ufy", response: "ay" },
  65: { name: "C_WaitForSlotEvent", request: "u", response: "u" },
};

const UNAVAILABLE = -1n; // CK_UNAVAILABLE_INFORMATION, all ones

export interface CardServerOptions {
  socket: string;
  csc: CscClient;
  prompter: Prompter;
  session: CardSession;
  log: (line: string) => void;
}

/**
 * The virtual card's daemon (`tessera card serve`): the p11-kit RPC protocol on a Unix socket only
 * its owner can open, so that Debian's p11-kit-client.so shows the cloud credentials to any
 * PKCS#11 application. One token per connection, as `p11-kit server` runs one module per client.
 */
export async function serveCard(options: CardServerOptions): Promise<{ close(): Promise<void> }> {
  await mkdir(dirname(options.socket), { recursive: true, mode: 0o700 });
  await removeStaleSocket(options.socket);
  const connections = new Set<Socket>();
  const oneAtATime = serially();
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
    serveConnection(socket, options, oneAtATime);
  });
  // The socket is made with no access for others from the start (the umask), not fixed after.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.socket, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  await chmod(options.socket, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of connections) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Runs the work given one after the other, each when the one before has ended (well or not). */
function serially(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };
}

/** A socket file left by a daemon that died is removed; one another daemon answers on is not. */
async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return;
  if (!stat.isSocket()) throw new TypeError(`${path} exists and is not a socket`);
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (inUse) throw new TypeError(`another virtual card already serves ${path}`);
  await unlink(path);
}

/** One client: the version byte, then frames handled one at a time, in order. */
function serveConnection(socket: Socket, options: CardServerOptions, oneAtATime: <T>(work: () => Promise<T>) => Promise<T>) {
  let buffered = Buffer.alloc(0);
  let versionRead = false;
  const context: Context = { token: undefined, version: 0, options, oneAtATime };
  let working = Promise.resolve();

  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (!versionRead) {
      // The client's highest version tells its release (and so its encodings); the answer is 1
      // at most: version 2 would have it use C_DeriveKey2, which a signing token does not need.
      versionRead = true;
      context.version = buffered[0]!;
      buffered = buffered.subarray(1);
      socket.write(Buffer.from([Math.min(context.version, 1)]));
    }
    while (buffered.length >= 12) {
      const code = buffered.readUInt32BE(0);
      const optionsLength = buffered.readUInt32BE(4);
      const bodyLength = buffered.readUInt32BE(8);
      if (optionsLength + bodyLength > MAX_MESSAGE) {
        options.log("virtual card: a message too large; connection closed");
        socket.destroy();
        return;
      }
      if (buffered.length < 12 + optionsLength + bodyLength) break;
      const body = Buffer.from(buffered.subarray(12 + optionsLength, 12 + optionsLength + bodyLength));
      buffered = buffered.subarray(12 + optionsLength + bodyLength);
      working = working.then(async () => {
        const reply = await handle(context, body);
        if (socket.destroyed) return;
        const header = Buffer.alloc(12);
        header.writeUInt32BE(code, 0);
        header.writeUInt32BE(0, 4);
        header.writeUInt32BE(reply.length, 8);
        socket.write(Buffer.concat([header, reply]));
      });
    }
  });
  // A client that goes away without C_Finalize (it exited, it crashed) ends its sessions all the same.
  socket.on("close", () => {
    context.token?.close();
    context.token = undefined;
  });
  socket.on("error", () => socket.destroy());
}

interface Context {
  token: VirtualCardToken | undefined;
  /** The protocol version the client offered. */
  version: number;
  readonly options: CardServerOptions;
  readonly oneAtATime: <T>(work: () => Promise<T>) => Promise<T>;
}

const errorReply = (rv: number) => new Writer().u32(0).array(Buffer.from("u")).ulong(rv).bytes();

async function handle(context: Context, body: Buffer): Promise<Buffer> {
  let id: number;
  let reader: Reader;
  try {
    reader = new Reader(body);
    id = reader.u32();
    const call = CALLS[id];
    if (!call) return errorReply(CKR.FUNCTION_NOT_SUPPORTED);
    const signature = reader.array()?.toString("latin1") ?? "";
    if (signature !== call.request) return errorReply(CKR.DEVICE_ERROR);
    const out = new Writer().u32(id).array(Buffer.from(call.response, "latin1"));
    await dispatch(context, id, reader, out);
    return out.bytes();
  } catch (error) {
    if (error instanceof Pkcs11Error) return errorReply(error.rv);
    if (error instanceof WireError) return errorReply(CKR.DEVICE_ERROR);
    context.options.log(`virtual card: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return errorReply(CKR.GENERAL_ERROR);
  }
}

async function dispatch(context: Context, id: number, r: Reader, out: Writer): Promise<void> {
  if (id === 1) {
    const handshake = r.byteArgument();
    r.byte();
    r.byteArgument();
    if (handshake?.toString("latin1") !== HANDSHAKE) throw new Pkcs11Error(CKR.GENERAL_ERROR, "not a p11-kit client");
    if (context.token) throw new Pkcs11Error(CKR.CRYPTOKI_ALREADY_INITIALIZED, "initialised already");
    const { csc, prompter, session, log } = context.options;
    context.token = new VirtualCardToken(csc, prompter, { sub: session.holder.sub, name: session.holder.name, tenant: session.tenant }, log, context.oneAtATime);
    await context.token.refresh(true);
    return;
  }
  const token = context.token;
  if (!token) throw new Pkcs11Error(CKR.CRYPTOKI_NOT_INITIALIZED, "C_Initialize first");
  switch (id) {
    case 2: // C_Finalize
      token.close();
      context.token = undefined;
      return;
    case 3: // C_GetInfo
      out.version(2, 40).padded("Tessera", 32).ulong(0).padded("Tessera virtual card", 32).version(0, 1);
      return;
    case 4: {
      // C_GetSlotList
      const present = r.byte() !== 0;
      const capacity = r.capacity();
      await token.refresh();
      out.ulongs(token.slotIds(present), capacity);
      return;
    }
    case 5: {
      const slot = r.ulong();
      await token.refresh();
      const info = token.slotInfo(slot);
      out.padded(info.description, 64).padded(info.manufacturer, 32).ulong(info.flags).version(0, 1).version(0, 1);
      return;
    }
    case 6: {
      const slot = r.ulong();
      await token.refresh();
      const info = token.tokenInfo(slot);
      out.padded(info.label, 32).padded(info.manufacturer, 32).padded(info.model, 16).padded(info.serial, 16).ulong(info.flags);
      // Sessions without limit (CK_EFFECTIVELY_INFINITE), counts and memory not told (CK_UNAVAILABLE_INFORMATION).
      out.ulong(0).ulong(UNAVAILABLE).ulong(0).ulong(UNAVAILABLE).ulong(info.maxPinLen).ulong(info.minPinLen);
      out.ulong(UNAVAILABLE).ulong(UNAVAILABLE).ulong(UNAVAILABLE).ulong(UNAVAILABLE).version(0, 1).version(0, 1).padded("", 16);
      return;
    }
    case 7: {
      const slot = r.ulong();
      const capacity = r.capacity();
      out.ulongs(token.mechanisms(slot), capacity);
      return;
    }
    case 8: {
      const info = token.mechanismInfo(r.ulong(), r.ulong());
      out.ulong(info.minKeySize).ulong(info.maxKeySize).ulong(info.flags);
      return;
    }
    case 10:
      out.ulong(token.openSession(r.ulong(), r.ulong()));
      return;
    case 11:
      token.closeSession(r.ulong());
      return;
    case 12:
      token.closeAllSessions(r.ulong());
      return;
    case 13: {
      const info = token.sessionInfo(r.ulong());
      out.ulong(info.slot).ulong(info.state).ulong(info.flags).ulong(0);
      return;
    }
    case 18: {
      const session = r.ulong();
      const userType = r.ulong();
      const pin = r.byteArgument();
      // A NULL PIN asks for a protected authentication path (a PIN pad): the card has none.
      if (pin === null) throw new Pkcs11Error(CKR.ARGUMENTS_BAD, "the password is required");
      await token.login(session, userType, pin.toString("utf8"));
      return;
    }
    case 19:
      token.logout(r.ulong());
      return;
    case 24:
      getAttributeValue(context, token, r, out);
      return;
    case 26: {
      const session = r.ulong();
      const template = r.attributes();
      // An attribute the caller leaves unavailable matches no object.
      if ([...template.values()].some((v) => v === null)) {
        token.findObjectsInit(session, new Map([[-1, Buffer.alloc(0)]]));
        return;
      }
      token.findObjectsInit(session, template as Map<number, Value>);
      return;
    }
    case 27: {
      const session = r.ulong();
      const capacity = r.capacity();
      out.ulongs(token.findObjects(session, capacity), capacity);
      return;
    }
    case 28:
      token.findObjectsFinal(r.ulong());
      return;
    case 42: {
      const session = r.ulong();
      const mechanism = r.mechanism(8);
      token.signInit(session, mechanism, r.ulong());
      return;
    }
    case 43: {
      const session = r.ulong();
      const data = r.byteArgument();
      const capacity = r.capacity();
      await signInto(token, session, capacity, out, data ?? Buffer.alloc(0));
      return;
    }
    case 44: {
      const session = r.ulong();
      token.signUpdate(session, r.byteArgument() ?? Buffer.alloc(0));
      return;
    }
    case 45: {
      const session = r.ulong();
      await signInto(token, session, r.capacity(), out);
      return;
    }
    case 65: {
      const flags = r.ulong();
      // Blocking would hold the whole connection; the card's one slot never changes anyway.
      throw new Pkcs11Error((flags & CKF_DONT_BLOCK) !== 0 ? CKR_NO_EVENT : CKR.FUNCTION_NOT_SUPPORTED, "no slot events");
    }
    default:
      throw new Pkcs11Error(CKR.FUNCTION_NOT_SUPPORTED, "not supported");
  }
}

/**
 * C_Sign / C_SignFinal: a length query (no buffer) or a buffer too small is answered with the
 * length and keeps the operation (PKCS#11 §5.2); otherwise the signature is made and it ends.
 */
async function signInto(token: VirtualCardToken, session: number, capacity: number, out: Writer, data?: Buffer) {
  const length = token.signatureLength(session);
  if (capacity === 0 || capacity === 0xffffffff || capacity < length) {
    out.output({ length });
    return;
  }
  out.output(await token.sign(session, data));
}

/**
 * C_GetAttributeValue: every attribute asked, in order, with its value, or "unavailable" and the
 * reason in the trailing return value (sensitive, no such attribute, buffer too small) — in-band,
 * not an error reply, as p11-kit's server does.
 */
function getAttributeValue(context: Context, token: VirtualCardToken, r: Reader, out: Writer) {
  const session = r.ulong();
  const object = r.ulong();
  const start = r.remaining;
  const requests = readAttributeRequests(r, start);
  // p11-kit 0.24's client cannot read back a template attribute at all, not even as absent.
  if (context.version === 0 && requests.some((q) => TEMPLATE_TYPES.has(q.type))) throw new Pkcs11Error(CKR.ATTRIBUTE_TYPE_INVALID, "no templates");
  const values = token.attributes(session, object, requests.map((q) => q.type));
  let rv: number = CKR.OK;
  out.u32(requests.length);
  requests.forEach((request, i) => {
    const { value } = values[i]!;
    if (value === "sensitive" || value === "invalid") {
      rv = rv === CKR.OK ? (value === "sensitive" ? CKR.ATTRIBUTE_SENSITIVE : CKR.ATTRIBUTE_TYPE_INVALID) : rv;
      out.attribute(request.type, null);
      return;
    }
    if (request.length !== 0 && request.length < nativeLength(request.type, value)) {
      if (rv === CKR.OK) rv = CKR.BUFFER_TOO_SMALL;
      out.attribute(request.type, null);
      return;
    }
    out.attribute(request.type, value);
  });
  out.ulong(rv);
}

/**
 * The 'fA' list, the message's last argument: releases of p11-kit differ on whether a template
 * type carries a nested list (never; always, 0.25.4–0.25.5; only when sized, 0.25.6+), so each
 * reading is tried until one takes exactly the bytes there are.
 */
function readAttributeRequests(r: Reader, available: number) {
  const rest = Buffer.from(r.bytesLeft());
  for (const nested of ["never", "always", "when-sized"] as const) {
    const attempt = new Reader(rest);
    try {
      const requests = attempt.attributeRequests(nested);
      if (attempt.remaining === 0) return requests;
    } catch {
      // the next reading
    }
  }
  throw new WireError(`an attribute list of ${available} bytes that no reading fits`);
}
