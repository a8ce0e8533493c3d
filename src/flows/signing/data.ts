/** What the panel's signing page remembers between its two steps. */
export interface SigningData {
  /** The credential (membership) chosen. */
  credential?: string;
  /** The PDF uploaded: its name, size, SHA-256 (base64) and content (base64), until it is signed. */
  document?: { name: string; size: number; digest: string; content: string };
  /** Where the code went (masked). */
  sentTo?: string;
  /** The signed PDF (base64), to download while the flow lives. */
  signed?: string;
}

export const SIGNING = "signing";
