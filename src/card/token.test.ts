import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import type { CscClient, RemoteCredential } from "./csc-client.ts";
import { CKA, CKF, CKM, CKO, CKR, CKU } from "./p11kit/pkcs11.ts";
import { VirtualCardToken } from "./token.ts";

async function certificate(organization: string): Promise<Buffer> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: `CN=Ane Etxeberria, O=${organization}, C=ES`, keys, signingAlgorithm: alg });
  return Buffer.from(cert.rawData);
}

/**
 * The token's bookkeeping, with the server's credential list as a test gives it: what the CSC
 * API would answer is the certificates; the password check is the only other call made here.
 */
function tokenWith(list: RemoteCredential[]) {
  const csc = { credentials: () => Promise.resolve(list.slice()), checkPin: (_id: string, pin: string) => (pin === "right" ? Promise.resolve() : Promise.reject(new Error("wrong"))) } as unknown as CscClient;
  const prompter = { ask: () => Promise.reject(new Error("no questions here")), close: () => undefined };
  return new VirtualCardToken(csc, prompter, { sub: "ane", name: "Ane Etxeberria", tenant: "pro" }, () => undefined);
}

const credential = (id: string, der: Buffer): RemoteCredential => ({ id, certificates: [der], status: "valid", keyAlgorithms: [], description: id });
const CLASS = (cls: number) => new Map([[CKA.CLASS, cls]]);

describe("the virtual card's token", () => {
  it("keeps each object's handle while the credential list changes under the application", async () => {
    const list = [credential("city", await certificate("Ayuntamiento")), credential("studio", await certificate("Estudio"))];
    const token = tokenWith(list);
    await token.refresh(true);
    const session = token.openSession(1, CKF.SERIAL_SESSION);
    await token.login(session, CKU.USER, "right");
    token.findObjectsInit(session, CLASS(CKO.PRIVATE_KEY));
    const [cityKey, studioKey] = token.findObjects(session, 10);
    token.findObjectsFinal(session);
    const labelOf = (handle: number) => (token.attributes(session, handle, [CKA.LABEL])[0]!.value as Buffer).toString();
    expect(labelOf(studioKey!)).toBe("Estudio");

    // The city's certificate is revoked: its key goes; the studio's key keeps its handle.
    list.splice(0, 1);
    await token.refresh(true);
    expect(labelOf(studioKey!)).toBe("Estudio");
    expect(() => token.attributes(session, cityKey!, [CKA.LABEL])).toThrow(expect.objectContaining({ rv: CKR.OBJECT_HANDLE_INVALID }));
    expect(() => token.signInit(session, CKM.ECDSA, cityKey!)).toThrow(expect.objectContaining({ rv: CKR.KEY_HANDLE_INVALID }));
  });

  it("shows private keys only after login, and ends a signature begun when the user logs out", async () => {
    const token = tokenWith([credential("city", await certificate("Ayuntamiento"))]);
    await token.refresh(true);
    const session = token.openSession(1, CKF.SERIAL_SESSION);
    token.findObjectsInit(session, CLASS(CKO.PRIVATE_KEY));
    expect(token.findObjects(session, 10)).toEqual([]);
    token.findObjectsFinal(session);
    await expect(token.login(session, CKU.USER, "wrong")).rejects.toBeDefined();
    await token.login(session, CKU.USER, "right");
    await expect(token.login(session, CKU.USER, "right")).rejects.toMatchObject({ rv: CKR.USER_ALREADY_LOGGED_IN });
    token.findObjectsInit(session, CLASS(CKO.PRIVATE_KEY));
    const [key] = token.findObjects(session, 10);
    token.findObjectsFinal(session);
    token.signInit(session, CKM.ECDSA, key!);
    expect(token.signatureLength(session)).toBe(64);
    token.logout(session);
    await expect(token.sign(session, Buffer.alloc(32))).rejects.toMatchObject({ rv: CKR.OPERATION_NOT_INITIALIZED });
  });

  it("refuses what a read-only signing token cannot do, with PKCS#11's codes", async () => {
    const token = tokenWith([credential("city", await certificate("Ayuntamiento"))]);
    await token.refresh(true);
    expect(() => token.openSession(1, 0)).toThrow(expect.objectContaining({ rv: CKR.SESSION_PARALLEL_NOT_SUPPORTED }));
    expect(() => token.openSession(2, CKF.SERIAL_SESSION)).toThrow(expect.objectContaining({ rv: CKR.SLOT_ID_INVALID }));
    const session = token.openSession(1, CKF.SERIAL_SESSION);
    await expect(token.login(session, CKU.SO, "right")).rejects.toMatchObject({ rv: CKR.USER_TYPE_INVALID });
    await token.login(session, CKU.USER, "right");
    token.findObjectsInit(session, CLASS(CKO.PRIVATE_KEY));
    const [key] = token.findObjects(session, 10);
    expect(token.attributes(session, key!, [CKA.VALUE, CKA.SIGN, 0x12345])).toEqual([
      { type: CKA.VALUE, value: "sensitive" },
      { type: CKA.SIGN, value: true },
      { type: 0x12345, value: "invalid" },
    ]);
    expect(() => token.signInit(session, CKM.RSA_PKCS, key!)).toThrow(expect.objectContaining({ rv: CKR.KEY_TYPE_INCONSISTENT }));
    expect(token.mechanisms(1)).toEqual([CKM.ECDSA, CKM.ECDSA_SHA256, CKM.ECDSA_SHA384, CKM.ECDSA_SHA512]);
  });
});
