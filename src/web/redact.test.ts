import { describe, expect, it } from "vitest";
import { redactQuery } from "./redact.ts";

describe("redactQuery", () => {
  it("hides the values of secret-looking parameters and keeps the rest", () => {
    expect(redactQuery("/cb?code=abc&state=xyz&access_token=t1")).toBe(
      "/cb?code=[redacted]&state=xyz&access_token=[redacted]",
    );
    expect(redactQuery("/sso?SAMLRequest=PD94&RelayState=r&Signature=s")).toBe(
      "/sso?SAMLRequest=[redacted]&RelayState=r&Signature=[redacted]",
    );
    expect(redactQuery("/x?pass%77ord=hunter2")).toBe("/x?pass%77ord=[redacted]");
  });

  it("leaves URLs without a query alone", () => {
    expect(redactQuery("/t/national/")).toBe("/t/national/");
    expect(redactQuery("/t/national/?lang=en")).toBe("/t/national/?lang=en");
  });
});
