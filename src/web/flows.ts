import { upstreamAnswers } from "../federation/broker/broker.ts";
import type { FlowServices } from "../flows/engine.ts";
import { enrolmentFlow } from "../flows/enrolment/flow.ts";
import type { EnrolmentData } from "../flows/enrolment/data.ts";
import type { AnyFlowDefinition, FlowDefinition } from "../flows/flow.ts";
import type { LoginData } from "../flows/login/data.ts";
import type { RecoveryData } from "../flows/recovery/data.ts";
import type { SettingsData } from "../flows/settings/data.ts";
import { loginFlow } from "../flows/login/flow.ts";
import { recoveryFlow } from "../flows/recovery/flow.ts";
import type { RegistrationData } from "../flows/registration/data.ts";
import { registrationFlow } from "../flows/registration/flow.ts";
import { settingsFlow } from "../flows/settings/flow.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { activationFlow } from "../flows/activation/flow.ts";
import type { ActivationData } from "../flows/activation/data.ts";
import { membershipRequestFlow } from "../flows/membership-request/flow.ts";
import type { SigningData } from "../flows/signing/data.ts";
import { signingFlow } from "../flows/signing/flow.ts";
import type { MembershipRequestData } from "../flows/membership-request/data.ts";
import type { PkiRuntime } from "../pki/deps.ts";

/** Each kind of flow and the data it keeps. */
export interface FlowKinds {
  enrolment: EnrolmentData;
  login: LoginData;
  recovery: RecoveryData;
  settings: SettingsData;
  registration: RegistrationData;
  activation: ActivationData;
  membership_request: MembershipRequestData;
  signing: SigningData;
}

/** The flows each tenant runs, bound to this server's services. */
export function flowRegistry(services: FlowServices & { pki: PkiRuntime }) {
  const outside = { attempts: services.attempts, clockNow: () => services.clock.now(), upstreams: upstreamAnswers, pki: services.pki };
  const definitions: { [K in keyof FlowKinds]: FlowDefinition<FlowKinds[K]> } = {
    enrolment: enrolmentFlow(outside),
    login: loginFlow(outside),
    recovery: recoveryFlow(outside),
    settings: settingsFlow(outside),
    registration: registrationFlow(outside),
    activation: activationFlow(outside),
    membership_request: membershipRequestFlow(outside),
    signing: signingFlow(outside),
  };
  return {
    /** The definition of `kind` if the tenant runs it (enrolment only where the policy has one). */
    forTenant<K extends keyof FlowKinds>(tenant: Tenant, kind: K): FlowDefinition<FlowKinds[K]> | undefined {
      if (kind === "enrolment" && !tenant.policy.enrolment) return undefined;
      if (kind === "registration" && !tenant.policy.registration.enabled) return undefined;
      if ((kind === "activation" || kind === "membership_request") && !tenant.policy.professionals.enabled) return undefined;
      if (kind === "signing" && !tenant.policy.signing.enabled) return undefined;
      return definitions[kind];
    },
    /** The same for a kind named by a client, which may be anything. */
    anyForTenant(tenant: Tenant, kind: string): AnyFlowDefinition | undefined {
      if (!Object.hasOwn(definitions, kind)) return undefined;
      const definition: AnyFlowDefinition | undefined = this.forTenant(tenant, kind as keyof FlowKinds);
      return definition;
    },
  };
}

export type FlowRegistry = ReturnType<typeof flowRegistry>;
