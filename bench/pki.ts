/**
 * The PKI's speed (issue 14), over HTTP like everything else: OCSP responses per second, signed
 * ahead (no nonce: what browsers and stapling servers send) and signed per request (a nonce), and
 * certificates issued per second through the admin API (a CSR checked, the certificate signed,
 * stored and audited), each beside the raw signature rate of the key that bounds it: the demo's
 * RSA-3072 issuing and OCSP keys.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { hammer, type Load, type Measure, measured } from "./load.ts";
import { ADMIN_TOKEN, type Server, type Target } from "./server.ts";

export async function measurePki(target: Target, server: Server, options: { seconds: number; connections: number; rsa3072: number; maxAndHalf: (run: (rate?: number) => Promise<Load>) => Promise<[Load, Load]> }): Promise<Measure[]> {
  const { engine, dataDir } = target;
  const raw = { primitive: "RSA-3072 sign", rate: options.rsa3072 };
  const tenantUrl = `${server.baseUrl}/t/pro`;
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dataDir, stdio: ["ignore", "pipe", "pipe"] });

  // A professional's key and request, as their card software would make them.
  run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-subj", "/CN=bench", "-out", "req.pem"]);
  const issueRequest = JSON.stringify({
    profile: "qualified-signing",
    csr: readFileSync(path.join(dataDir, "req.pem"), "utf8"),
    subject: { country: "ES", common_name: "BENCH PROFESIONAL", given_name: "Bench", surname: "Profesional", serial_number: "IDCES-12345678Z", organization_name: "Bench S.L.", organization_identifier: "VATES-B12345674" },
  });
  const issueUrl = `${server.baseUrl}/admin/api/tenants/pro/pki/certificates`;
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
  const first = await fetch(issueUrl, { method: "POST", headers, body: issueRequest });
  if (first.status !== 201) throw new Error(`issuance: ${first.status} ${await first.text()}`);

  // That certificate's OCSP requests, as openssl makes them.
  writeFileSync(path.join(dataDir, "leaf.pem"), ((await first.json()) as { certificate: string }).certificate);
  writeFileSync(path.join(dataDir, "chain.pem"), Buffer.from(await (await fetch(`${tenantUrl}/pki/chain.pem`)).arrayBuffer()));
  run(["x509", "-in", "chain.pem", "-out", "issuing.pem"]);
  run(["ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "plain.der"]);
  run(["ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-reqout", "nonce.der"]);
  const ocsp = (file: string) => (rate?: number) =>
    hammer({
      url: `${tenantUrl}/pki/ocsp`,
      method: "POST",
      headers: { "content-type": "application/ocsp-request" },
      body: readFileSync(path.join(dataDir, file)),
      expect: [200],
      connections: options.connections,
      seconds: options.seconds,
      ...(rate ? { rate } : {}),
    });
  const issuance = (rate?: number) =>
    hammer({ url: issueUrl, method: "POST", headers, body: issueRequest, expect: [201], connections: options.connections, seconds: options.seconds, ...(rate ? { rate } : {}) });
  return [
    measured("OCSP, no nonce (response signed ahead)", engine, ...(await options.maxAndHalf(ocsp("plain.der"))), { ...raw, target: 1 }),
    measured("OCSP with a nonce (signed per request)", engine, ...(await options.maxAndHalf(ocsp("nonce.der"))), raw),
    measured("certificate issued (admin API: CSR → signed, stored, audited)", engine, ...(await options.maxAndHalf(issuance)), { ...raw, target: 0.5 }),
  ];
}
