/**
 * The PKCS#11 v2.40 constants the virtual card's token uses (OASIS "PKCS #11 Cryptographic Token
 * Interface Base Specification", pkcs11t.h). Only what a signing token needs.
 */

/** Return values (CKR_*). */
export const CKR = {
  OK: 0x00,
  SLOT_ID_INVALID: 0x03,
  GENERAL_ERROR: 0x05,
  FUNCTION_FAILED: 0x06,
  ARGUMENTS_BAD: 0x07,
  ATTRIBUTE_SENSITIVE: 0x11,
  ATTRIBUTE_TYPE_INVALID: 0x12,
  DATA_INVALID: 0x20,
  DATA_LEN_RANGE: 0x21,
  DEVICE_ERROR: 0x30,
  FUNCTION_CANCELED: 0x50,
  FUNCTION_NOT_SUPPORTED: 0x54,
  KEY_HANDLE_INVALID: 0x60,
  KEY_TYPE_INCONSISTENT: 0x63,
  KEY_FUNCTION_NOT_PERMITTED: 0x68,
  MECHANISM_INVALID: 0x70,
  MECHANISM_PARAM_INVALID: 0x71,
  OBJECT_HANDLE_INVALID: 0x82,
  OPERATION_ACTIVE: 0x90,
  OPERATION_NOT_INITIALIZED: 0x91,
  PIN_INCORRECT: 0xa0,
  PIN_LEN_RANGE: 0xa2,
  PIN_LOCKED: 0xa4,
  SESSION_HANDLE_INVALID: 0xb3,
  SESSION_PARALLEL_NOT_SUPPORTED: 0xb4,
  SESSION_READ_ONLY: 0xb5,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_WRITE_PROTECTED: 0xe2,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  USER_TYPE_INVALID: 0x103,
  BUFFER_TOO_SMALL: 0x150,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;

/** Attribute types (CKA_*). */
export const CKA = {
  CLASS: 0x00,
  TOKEN: 0x01,
  PRIVATE: 0x02,
  LABEL: 0x03,
  VALUE: 0x11,
  CERTIFICATE_TYPE: 0x80,
  ISSUER: 0x81,
  SERIAL_NUMBER: 0x82,
  TRUSTED: 0x86,
  CERTIFICATE_CATEGORY: 0x87,
  KEY_TYPE: 0x100,
  SUBJECT: 0x101,
  ID: 0x102,
  SENSITIVE: 0x103,
  ENCRYPT: 0x104,
  DECRYPT: 0x105,
  WRAP: 0x106,
  UNWRAP: 0x107,
  SIGN: 0x108,
  SIGN_RECOVER: 0x109,
  VERIFY: 0x10a,
  VERIFY_RECOVER: 0x10b,
  DERIVE: 0x10c,
  MODULUS: 0x120,
  MODULUS_BITS: 0x121,
  PUBLIC_EXPONENT: 0x122,
  PUBLIC_KEY_INFO: 0x129,
  EXTRACTABLE: 0x162,
  LOCAL: 0x163,
  NEVER_EXTRACTABLE: 0x164,
  ALWAYS_SENSITIVE: 0x165,
  MODIFIABLE: 0x170,
  COPYABLE: 0x171,
  DESTROYABLE: 0x172,
  EC_PARAMS: 0x180,
  EC_POINT: 0x181,
  ALWAYS_AUTHENTICATE: 0x202,
  ALLOWED_MECHANISMS: 0x40000600,
} as const;

/** Object classes (CKO_*), key types (CKK_*), certificate types and categories. */
export const CKO = { CERTIFICATE: 1, PUBLIC_KEY: 2, PRIVATE_KEY: 3 } as const;
export const CKK = { RSA: 0, EC: 3 } as const;
export const CKC_X_509 = 0;
export const CK_CERTIFICATE_CATEGORY = { TOKEN_USER: 1, AUTHORITY: 2 } as const;

/** Mechanisms (CKM_*). */
export const CKM = {
  RSA_PKCS: 0x01,
  SHA256_RSA_PKCS: 0x40,
  SHA384_RSA_PKCS: 0x41,
  SHA512_RSA_PKCS: 0x42,
  ECDSA: 0x1041,
  ECDSA_SHA256: 0x1044,
  ECDSA_SHA384: 0x1045,
  ECDSA_SHA512: 0x1046,
} as const;

/** Flags (CKF_*) of slots, tokens, sessions and mechanisms. */
export const CKF = {
  TOKEN_PRESENT: 0x01,
  REMOVABLE_DEVICE: 0x02,
  HW_SLOT: 0x04,
  WRITE_PROTECTED: 0x02,
  LOGIN_REQUIRED: 0x04,
  USER_PIN_INITIALIZED: 0x08,
  TOKEN_INITIALIZED: 0x400,
  RW_SESSION: 0x02,
  SERIAL_SESSION: 0x04,
  SIGN: 0x800,
  EC_F_P: 0x100000,
  EC_NAMEDCURVE: 0x800000,
  EC_UNCOMPRESS: 0x1000000,
} as const;

/** User types (CKU_*) and session states (CKS_*). */
export const CKU = { SO: 0, USER: 1, CONTEXT_SPECIFIC: 2 } as const;
export const CKS = { RO_PUBLIC_SESSION: 0, RO_USER_FUNCTIONS: 1 } as const;

/** A PKCS#11 failure: the code goes back to the application as the function's return value. */
export class Pkcs11Error extends Error {
  constructor(
    readonly rv: number,
    message: string,
  ) {
    super(message);
    this.name = "Pkcs11Error";
  }
}
