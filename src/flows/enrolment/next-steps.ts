import type { Translate } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { EnrolmentData } from "./data.ts";

/** What the applicant does next, by identification method (seed 000). */
export function nextSteps(tenant: Tenant, data: EnrolmentData, t: Translate, request: string): string {
  const point = tenant.policy.enrolment?.points.find((p) => p.id === data.point);
  switch (data.method) {
    case "in_person":
      return t("enrol.next.in_person", { point: point?.name ?? "", address: point?.address ?? "", request });
    case "signature":
    case "cns":
    case "video":
    case "cie":
      return t(`enrol.next.${data.method}`, { request });
    default:
      return "";
  }
}
