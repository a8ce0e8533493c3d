/** Where a tenant's PKI publishes what relying parties fetch (certificates point here). */
export interface PkiUrls {
  /** The issuing CA's CRL (CRL distribution point of end-entity certificates). */
  crl: string;
  /** The root's CRL (distribution point of the issuing CA's certificate). */
  rootCrl: string;
  ocsp: string;
  /** The issuing CA's certificate, DER (AIA caIssuers of end-entity certificates). */
  issuingCertificate: string;
  /** The root's certificate, DER (AIA caIssuers of the issuing CA's). */
  rootCertificate: string;
  /** The PKI disclosure statement. */
  pds: string;
}

export function pkiUrls(tenantUrl: string): PkiUrls {
  const base = `${tenantUrl}/pki`;
  return {
    crl: `${base}/crl`,
    rootCrl: `${base}/root.crl`,
    ocsp: `${base}/ocsp`,
    issuingCertificate: `${base}/issuing.crt`,
    rootCertificate: `${base}/root.crt`,
    pds: `${base}/pds`,
  };
}
