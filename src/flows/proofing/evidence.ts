import { createHash } from "node:crypto";
import { recordAuditBy } from "../../audit/service.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { TesseraError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import type { EvidenceInfo, EvidenceRow } from "../../store/repos/proofing.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { proofingPolicy } from "./cases.ts";

/** What a piece of evidence is. */
export const EVIDENCE_KINDS = [
  "document_front",
  "document_back",
  "health_card",
  "video_recording",
  "video_snapshot",
  "contract",
  "signed_contract",
  "client_certificate",
  "chip_dg1",
  "chip_dg11",
  "chip_sod",
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

const sealContext = (tenantId: string, id: string) => `proofing-evidence:${tenantId}:${id}`;

/** Images of documents: JPEG or PNG, told by their first bytes, not by the name or type the browser gives. */
export function imageType(content: Uint8Array): "image/jpeg" | "image/png" | undefined {
  if (content.length > 3 && content[0] === 0xff && content[1] === 0xd8 && content[2] === 0xff) return "image/jpeg";
  if (content.length > 8 && Buffer.from(content.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  return undefined;
}

/** Checks an uploaded document image: a JPEG or PNG within the policy's size. */
export function checkImage(tenant: Tenant, field: string, content: Uint8Array): "image/jpeg" | "image/png" {
  const max = proofingPolicy(tenant).maxUploadBytes;
  if (content.length === 0) throw new TesseraError("proofing.upload_missing", `${field}: no file`, { params: { field } });
  if (content.length > max) throw new TesseraError("proofing.upload_too_large", `${field}: larger than ${max} bytes`, { status: 413, params: { field, max } });
  const type = imageType(content);
  if (!type) throw new TesseraError("proofing.upload_not_image", `${field}: not a JPEG or PNG image`, { status: 415, params: { field } });
  return type;
}

/**
 * Keeps a file of a case: sealed with the master key (its id authenticated), its SHA-256 as its
 * name for the record. Retention is set when the case is decided. Inside the caller's transaction.
 */
export async function addEvidence(
  deps: IdentityDeps,
  tenant: Tenant,
  caseId: string,
  file: { kind: EvidenceKind; mediaType: string; content: Uint8Array },
  by: Actor,
): Promise<EvidenceInfo> {
  const id = newId();
  const sha256 = createHash("sha256").update(file.content).digest("hex");
  const row: EvidenceRow = {
    tenant_id: tenant.id,
    id,
    case_id: caseId,
    kind: file.kind,
    media_type: file.mediaType,
    sha256,
    size: file.content.length,
    content: deps.secrets.seal(Buffer.from(file.content).toString("base64"), sealContext(tenant.id, id)),
    created_by: by.actor,
    created_at: deps.clock.now(),
    retain_until: null,
  };
  await deps.repos.atomically(async (repos) => {
    await repos.proofing.insertEvidence(row);
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.evidence_added", data: { case: caseId, evidence: id, kind: file.kind, sha256, size: row.size } });
  });
  const { content: _content, ...info } = row;
  return info;
}

/** A file of a case, opened for someone entitled to it: every read is in the audit log (who, which, when). */
export async function readEvidence(deps: IdentityDeps, tenant: Tenant, caseId: string, id: string, by: Actor): Promise<{ info: EvidenceInfo; content: Buffer }> {
  const row = await deps.repos.proofing.evidence(tenant.id, id);
  if (!row || row.case_id !== caseId) throw new TesseraError("proofing.evidence_not_found", "no such evidence", { status: 404 });
  const content = Buffer.from(deps.secrets.open(row.content, sealContext(tenant.id, id)), "base64");
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.evidence_viewed", data: { case: caseId, evidence: id, kind: row.kind, sha256: row.sha256 } });
  const { content: _content, ...info } = row;
  return { info, content };
}
