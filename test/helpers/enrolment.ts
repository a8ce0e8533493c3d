import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import { openBody } from "../../src/messaging/outbox.ts";
import type { TestApp } from "./app.ts";
import { solveCaptcha } from "./captcha.ts";

/** The newest message queued for `to`, as its recipient reads it. */
export async function lastMessageTo(app: Pick<TestApp, "store" | "deps">, to: string, tenant = "national") {
  const [row] = await app.store.repos.outbox.list(tenant, { recipient: to, limit: 1 });
  return openBody(app.deps.secrets, row!.id, row!.body!);
}

/** The six-digit code in the newest message to `to`. */
export async function lastCodeTo(app: Pick<TestApp, "store" | "deps">, to: string, tenant = "national"): Promise<string> {
  return /\b(\d{6})\b/.exec((await lastMessageTo(app, to, tenant)).text)![1]!;
}

export interface FlowView {
  id: string;
  state: string;
  step: string | null;
  fields: { name: string; type: string; challenge?: { algorithm: string; challenge: string; salt: string; signature: string; maxnumber: number } }[];
  notice?: { code: string; message: string };
  result?: { request: string; next_steps: string };
}

export const personalData = {
  given_name: "Giulia",
  family_name: "Bianchi",
  sex: "F",
  birth_date: "1990-05-15",
  birth_place: "Milano",
  fiscal_code: "BNCGLI90E55F205D",
  document_type: "carta_identita",
  document_number: "CA12345GB",
  document_issuer: "Comune di Milano",
  document_issue_date: "2022-03-01",
  document_expiry_date: "2032-03-01",
  health_card_number: "80380000001234567890",
  health_card_expiry: "2030-12-31",
  address: "Via Dante 12",
  postal_code: "20121",
  city: "Milano",
  province: "MI",
};

/** Drives the enrolment API, reading codes where a test SMTP server or SMS gateway would. */
export function enrolmentClient(app: FastifyInstance, tenant = "national", clock?: { advance(ms: number): void }) {
  const base = `/t/${tenant}/api/flows`;
  return {
    async start(): Promise<FlowView> {
      const res = await app.inject({ method: "POST", url: base, payload: { kind: "enrolment" } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<FlowView>();
    },
    async submit(id: string, step: string, values: Record<string, unknown> = {}) {
      // People take a few seconds over each step; a test clock that stood still would make
      // every message and consent simultaneous.
      clock?.advance(5000);
      const res = await app.inject({ method: "POST", url: `${base}/${id}`, payload: { step, ...values } });
      return { status: res.statusCode, body: res.json<FlowView & { error?: string; errors?: { field: string; code: string; message: string }[] }>() };
    },
    async ok(id: string, step: string, values: Record<string, unknown> = {}): Promise<FlowView> {
      const { status, body } = await this.submit(id, step, values);
      expect(status, JSON.stringify(body)).toBe(200);
      return body;
    },
    async get(id: string): Promise<FlowView> {
      return (await app.inject({ url: `${base}/${id}` })).json<FlowView>();
    },
    async captchaFor(view: FlowView): Promise<string> {
      const field = view.fields.find((f) => f.name === "captcha");
      return solveCaptcha(field!.challenge!);
    },
  };
}
