import type { z } from "zod";
import { type Actor, recordAuditBy } from "../audit/service.ts";
import type { Clock } from "../shared/clock.ts";
import { TesseraError, ValidationError } from "../shared/errors.ts";
import type { Store } from "../store/db.ts";
import type { Repos } from "../store/repos/index.ts";
import type { TenantRow } from "../store/repos/tenants.ts";
import { type Tenant, TenantInput } from "./tenant.ts";

/** Validates `input` and creates the tenant, audited, in one transaction. */
export async function createTenant(store: Store, clock: Clock, input: unknown, by: Actor): Promise<Tenant> {
  const tenant = parseTenantInput(input);
  const created = await store.transaction((repos) => insertTenant(repos, clock, tenant, by));
  if (!created) {
    throw new TesseraError("tenant.exists", `tenant ${tenant.id} already exists`, {
      status: 409,
      params: { tenant: tenant.id },
    });
  }
  return created;
}

/**
 * Creates those of `inputs` that do not exist yet (the demo tenants at `start --demo`); safe when
 * several nodes start at once. Returns the ids created.
 */
export async function ensureTenants(store: Store, clock: Clock, inputs: unknown[], by: Actor): Promise<string[]> {
  const created: string[] = [];
  for (const input of inputs) {
    const tenant = parseTenantInput(input);
    if (await store.transaction((repos) => insertTenant(repos, clock, tenant, by))) created.push(tenant.id);
  }
  return created;
}

async function insertTenant(
  repos: Repos,
  clock: Clock,
  tenant: z.output<typeof TenantInput>,
  by: Actor,
): Promise<Tenant | undefined> {
  const now = clock.now();
  const inserted = await repos.tenants.insertIfAbsent({
    id: tenant.id,
    display_name: tenant.displayName,
    locales: JSON.stringify(tenant.locales),
    default_locale: tenant.defaultLocale,
    policy: JSON.stringify(tenant.policy),
    branding: JSON.stringify(tenant.branding),
    created_at: now,
    updated_at: now,
  });
  if (!inserted) return undefined;
  await recordAuditBy(repos, clock, by, {
    tenantId: tenant.id,
    type: "tenant.created",
    data: { displayName: tenant.displayName, locales: tenant.locales, policy: tenant.policy },
  });
  return { ...tenant, createdAt: now, updatedAt: now, decoyHash: null };
}

export async function findTenant(repos: Repos, id: string): Promise<Tenant | undefined> {
  const row = await repos.tenants.find(id);
  return row && tenantFromRow(row);
}

export async function listTenants(repos: Repos): Promise<Tenant[]> {
  return (await repos.tenants.list()).map(tenantFromRow);
}

export function parseTenantInput(input: unknown): z.output<typeof TenantInput> {
  const result = TenantInput.safeParse(input);
  if (!result.success) {
    throw new ValidationError(
      "tenant.invalid",
      result.error.issues.map((i) => ({ field: i.path.join("."), code: `invalid.${i.code}`, message: i.message })),
    );
  }
  return result.data;
}

/**
 * Rows are re-validated on the way out: a policy written by an older version gets the defaults of
 * keys added since, and a row edited by hand into nonsense fails loudly instead of half-working.
 */
function tenantFromRow(row: TenantRow): Tenant {
  // Every request reads its tenant from the store (another node may have changed it); parsing the
  // same row again is what costs, so a row's text maps to its parsed, frozen tenant.
  const key = [row.id, row.display_name, row.locales, row.default_locale, row.policy, row.branding, row.created_at, row.updated_at, row.decoy_hash].join("\u0000");
  const known = parsed.get(key);
  if (known) return known;
  if (parsed.size >= PARSED_MAX) parsed.clear();
  const tenant = deepFreeze(parseTenantRow(row));
  parsed.set(key, tenant);
  return tenant;
}

const PARSED_MAX = 1000;
const parsed = new Map<string, Tenant>();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function parseTenantRow(row: TenantRow): Tenant {
  const tenant = TenantInput.parse({
    id: row.id,
    displayName: row.display_name,
    locales: JSON.parse(row.locales) as unknown,
    defaultLocale: row.default_locale,
    policy: JSON.parse(row.policy) as unknown,
    branding: JSON.parse(row.branding) as unknown,
  });
  return { ...tenant, createdAt: row.created_at, updatedAt: row.updated_at, decoyHash: row.decoy_hash };
}
