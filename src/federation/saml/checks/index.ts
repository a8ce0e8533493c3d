import { checkAssertionConsumerService } from "./assertion-consumer-service.ts";
import { checkAttributeConsumingService } from "./attribute-consuming-service.ts";
import type { Check } from "./context.ts";
import { checkDestination } from "./destination.ts";
import { checkId } from "./id.ts";
import { checkIsPassive } from "./is-passive.ts";
import { checkIssueInstant } from "./issue-instant.ts";
import { checkNameIdPolicy } from "./name-id-policy.ts";
import { checkPurpose } from "./purpose.ts";
import { checkRequestedAuthnContext } from "./requested-authn-context.ts";
import { checkSchema } from "./schema.ts";
import { checkVersion } from "./version.ts";

/**
 * The checks of a verified AuthnRequest, in order; the first that fails decides the answer. The ID
 * and the ACS come first so that even an answer about a later fault can say what it answers
 * (InResponseTo) and go where the request asked.
 */
export const AUTHN_REQUEST_CHECKS: readonly Check[] = [
  checkId,
  checkAssertionConsumerService,
  checkSchema,
  checkVersion,
  checkIssueInstant,
  checkDestination,
  checkAttributeConsumingService,
  checkNameIdPolicy,
  checkRequestedAuthnContext,
  checkIsPassive,
  checkPurpose,
];

export type { AuthnRequestCheck, LevelRequirement } from "./context.ts";
