import { CardError } from "./errors.ts";
import { NETWORK_TIMEOUT_MS, type TokenKeeper } from "./session.ts";

/** A refusal of the CSC API (`{error, error_description}`), kept whole for the caller to map. */
export class CscRefusal extends CardError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super("refused", `The server refused: ${description || error}`);
    this.name = "CscRefusal";
  }
}

/** A credential as `credentials/list` describes it, with its chain. */
export interface RemoteCredential {
  id: string;
  /** The signing certificate (DER) and its issuers' (leaf first). */
  certificates: Buffer[];
  status: string;
  keyAlgorithms: string[];
  /** The organisation it signs for, as the server describes it. */
  description: string;
}

/**
 * The card's side of the tenant's CSC API v2: the calls the commands and the PKCS#11 token make,
 * each with the session's access token and a timeout.
 */
export class CscClient {
  constructor(private readonly tokens: TokenKeeper) {}

  async call(method: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const send = async (token: string) => {
      try {
        return await fetch(`${this.tokens.current.csc}/${method}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
        });
      } catch (error) {
        const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
        throw new CardError("network", `Cannot reach ${this.tokens.current.server}: ${cause}`);
      }
    };
    let response = await send(await this.tokens.accessToken());
    if (response.status === 401) response = await send(await this.tokens.refused());
    const text = await response.text().catch(() => "");
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new CardError("server", `${this.tokens.current.server} answered ${response.status} without JSON`);
    }
    if (!response.ok) {
      const said = (value: unknown, otherwise: string) => (typeof value === "string" ? value : otherwise);
      throw new CscRefusal(response.status, said(json.error, String(response.status)), said(json.error_description, ""));
    }
    return json;
  }

  async credentials(): Promise<RemoteCredential[]> {
    const answer = await this.call("credentials/list", { credentialInfo: true, certificates: "chain" });
    const infos = (answer.credentialInfos ?? []) as { credentialID: string; description?: string; key: { algo: string[] }; cert: { status: string; certificates?: string[] } }[];
    return infos.map((info) => ({
      id: info.credentialID,
      certificates: (info.cert.certificates ?? []).map((b64) => Buffer.from(b64, "base64")),
      status: info.cert.status,
      keyAlgorithms: info.key.algo,
      description: info.description ?? info.credentialID,
    }));
  }

  /** Tessera's check of the signing password alone (the token's C_Login), counted like a sign-in. */
  async checkPin(credentialId: string, pin: string): Promise<void> {
    await this.call("credentials/checkPIN", { credentialID: credentialId, PIN: pin });
  }

  async sendOtp(credentialId: string): Promise<void> {
    await this.call("credentials/sendOTP", { credentialID: credentialId });
  }

  /** credentials/authorize for exactly these hashes (base64): the SAD. */
  async authorize(credentialId: string, hashes: string[], hashAlgorithmOid: string, pin: string, otp: string): Promise<string> {
    const answer = await this.call("credentials/authorize", {
      credentialID: credentialId,
      numSignatures: hashes.length,
      hashes,
      hashAlgorithmOID: hashAlgorithmOid,
      authData: [
        { id: "PIN", value: pin },
        { id: "OTP", value: otp },
      ],
    });
    return String(answer.SAD);
  }

  async signHash(credentialId: string, sad: string, hashes: string[], hashAlgorithmOid: string, signAlgo: string): Promise<Buffer[]> {
    const answer = await this.call("signatures/signHash", { credentialID: credentialId, SAD: sad, hashes, hashAlgorithmOID: hashAlgorithmOid, signAlgo });
    return ((answer.signatures ?? []) as string[]).map((b64) => Buffer.from(b64, "base64"));
  }

  async timestamp(hash: Uint8Array, hashAlgorithmOid: string): Promise<Buffer> {
    const answer = await this.call("signatures/timestamp", { hash: Buffer.from(hash).toString("base64"), hashAlgorithmOID: hashAlgorithmOid });
    return Buffer.from(String(answer.timestamp), "base64");
  }
}
