import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import { type Account, createAccount, type NewAccount } from "../../src/identity/accounts.ts";
import { setPassword } from "../../src/identity/password/service.ts";
import { setSecurityAnswer } from "../../src/identity/security-question.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import type { TestApp } from "./app.ts";

export const PASSWORD = "Quercia-Verde-2026!";

export interface FlowBody {
  id: string;
  kind: string;
  state: string;
  step: string | null;
  fields: { name: string; type: string; options?: { value: string }[]; challenge?: Record<string, unknown> }[];
  notice?: { code: string; message: string };
  session?: { token: string; level: number; acr: string; amr: string[]; expires_at: string };
  error?: string;
  errors?: { field: string; code: string; message: string }[];
  result?: Record<string, string>;
}

/** Drives any flow of the JSON API (docs/api.md), as an API client would. */
export function flowClient(app: FastifyInstance, tenant: string, token?: string) {
  const base = `/t/${tenant}/api/flows`;
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  return {
    async start(body: Record<string, unknown>): Promise<{ status: number; body: FlowBody }> {
      const res = await app.inject({ method: "POST", url: base, headers, payload: body });
      return { status: res.statusCode, body: res.json<FlowBody>() };
    },
    async started(body: Record<string, unknown>): Promise<FlowBody> {
      const { status, body: flow } = await this.start(body);
      expect(status, JSON.stringify(flow)).toBe(201);
      return flow;
    },
    async submit(id: string, step: string, values: Record<string, unknown> = {}): Promise<{ status: number; body: FlowBody }> {
      const res = await app.inject({ method: "POST", url: `${base}/${id}`, headers, payload: { step, ...values } });
      return { status: res.statusCode, body: res.json<FlowBody>() };
    },
    async ok(id: string, step: string, values: Record<string, unknown> = {}): Promise<FlowBody> {
      const { status, body } = await this.submit(id, step, values);
      expect(status, JSON.stringify(body)).toBe(200);
      return body;
    },
    /** The one error of a refused step: its code (and the whole body, for more checks). */
    async refused(id: string, step: string, values: Record<string, unknown> = {}) {
      const { status, body } = await this.submit(id, step, values);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body.errors, JSON.stringify(body)).toHaveLength(1);
      return { code: body.errors![0]!.code, field: body.errors![0]!.field, message: body.errors![0]!.message, body };
    },
  };
}

/** An account of a demo tenant with a password (and, where asked, a security answer). */
export async function member(
  t: Pick<TestApp, "store" | "deps">,
  tenantId: string,
  input: Partial<NewAccount> & { identifier: string },
  extra: { password?: string; answer?: { question: string; answer: string } } = {},
): Promise<{ tenant: Tenant; account: Account }> {
  const tenant = (await findTenant(t.store.repos, tenantId))!;
  const account = await createAccount(t.deps, tenant, { state: "active", ...input }, { actor: "test" });
  await setPassword(t.deps, tenant, account, extra.password ?? PASSWORD, { actor: "test" });
  if (extra.answer) {
    const set = await setSecurityAnswer(t.deps, tenant, account, extra.answer.question, extra.answer.answer, { actor: "test" });
    expect(set.ok).toBe(true);
  }
  return { tenant, account };
}

/** Signs in through the API at level 1 and returns the session token. */
export async function signInL1(app: FastifyInstance, tenant: string, identifier: string, password = PASSWORD): Promise<string> {
  const client = flowClient(app, tenant);
  const flow = await client.started({ kind: "login", level: 1 });
  const done = await client.ok(flow.id, "identify", { identifier, password });
  expect(done.state).toBe("complete");
  return done.session!.token;
}
