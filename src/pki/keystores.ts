import type { Clock } from "../shared/clock.ts";
import type { Secrets } from "../shared/crypto/secrets.ts";
import type { PkiKeyRow } from "../store/repos/pki.ts";
import type { Keystore, KeystoreConfig } from "./keystore.ts";
import { pkcs11Keystore } from "./pkcs11-keystore.ts";
import { softwareKeystore } from "./software-keystore.ts";

/** The keystores of a process: the software one, and one per PKCS#11 token a tenant names. */
export interface Keystores {
  /** The keystore a tenant's configuration chooses, for new keys. */
  configured(config: KeystoreConfig): Keystore;
  /** The keystore that holds an existing key (which may predate a change of configuration). */
  holding(key: PkiKeyRow, config: KeystoreConfig): Keystore;
}

export function createKeystores(secrets: Secrets, clock: Clock): Keystores {
  const software = softwareKeystore(secrets, clock);
  const tokens = new Map<string, Keystore>();
  const configured = (config: KeystoreConfig): Keystore => {
    if (config.kind === "software") return software;
    const name = JSON.stringify(config);
    let keystore = tokens.get(name);
    if (!keystore) {
      keystore = pkcs11Keystore(config, clock);
      tokens.set(name, keystore);
    }
    return keystore;
  };
  return {
    configured,
    holding(key, config) {
      if (key.keystore === "software") return software;
      if (config.kind !== "pkcs11") throw new TypeError(`key ${key.id} is on a PKCS#11 token, and the tenant's keystore is no longer one`);
      return configured(config);
    },
  };
}
