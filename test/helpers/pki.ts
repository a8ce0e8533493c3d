import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { z } from "zod";
import type { PkiPolicy } from "../../src/tenants/policy.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import type { Store } from "../../src/store/db.ts";
import { updatePolicy } from "./tenants.ts";

/** Key algorithms that make a hierarchy in milliseconds (the defaults are RSA, tested where it matters). */
export const EC_ALGORITHMS = { root: "EC-P384", issuing: "EC-P256", ocsp: "EC-P256", tsa: "EC-P256" } as const;

/** Sets the tenant's `pki` policy (merged over what it has) in the store, and returns the tenant as read back. */
export function setPkiPolicy(store: Store, tenantId: string, pki: Partial<z.input<typeof PkiPolicy>>): Promise<Tenant> {
  return updatePolicy(store, tenantId, (policy) => {
    policy.pki = { ...policy.pki, ...pki };
  });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (openssl, pdfsig…) to completion; never throws for a non-zero exit. */
export function run(command: string, args: string[], options: { cwd?: string; input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd: options.cwd, env: options.env ? { ...process.env, ...options.env } : process.env, encoding: "latin1", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
    if (options.input) child.stdin!.end(options.input);
    else child.stdin?.end();
  });
}

export const openssl = (args: string[], options: { cwd?: string; input?: Buffer } = {}) => run("openssl", args, options);

/** A scratch directory with the given files written into it. */
export function workdir(files: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-pki-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

/** A subject's key pair made outside Tessera, as a card or a client would: its SPKI for issuance. */
export function subjectKey(type: "rsa" | "ec" = "ec") {
  const pair = type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...pair, spki: pair.publicKey.export({ format: "der", type: "spki" }), pem: pair.privateKey.export({ format: "pem", type: "pkcs8" }) as string };
}

export const ANE = {
  country: "ES",
  commonName: "ANE ETXEBERRIA GARAY",
  givenName: "Ane",
  surname: "Etxeberria Garay",
  serialNumber: "IDCES-12345678Z",
  organizationName: "Ejemplo Ingeniería S.L.",
  organizationIdentifier: "VATES-B12345674",
};

/** The qcStatements extension of a certificate (PEM or DER file in `dir`), as `openssl asn1parse` reads it. */
export async function qcStatementsOf(dir: string, file: string, inform: "PEM" | "DER" = "PEM"): Promise<string> {
  const lines = (await openssl(["asn1parse", "-inform", inform, "-in", file], { cwd: dir })).stdout.split("\n");
  const at = lines.findIndex((l) => l.includes("qcStatements"));
  if (at < 0) return "";
  const offset = Number(/^\s*(\d+):/.exec(lines[at + 1]!)![1]);
  return (await openssl(["asn1parse", "-inform", inform, "-in", file, "-strparse", String(offset)], { cwd: dir })).stdout;
}
