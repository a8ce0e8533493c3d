/** The self-service changes that take more than one step, each a settings flow of its own. */
export const SETTINGS_ACTIONS = ["change_email", "change_mobile", "add_totp", "suspend", "revoke"] as const;
export type SettingsAction = (typeof SETTINGS_ACTIONS)[number];

/** Actions that change how the account signs in: they need the session level of `levelToManageFactors`. */
export const FACTOR_ACTIONS: ReadonlySet<SettingsAction> = new Set(["change_email", "change_mobile", "add_totp"]);

/** The step each action starts at. */
export const FIRST_STEP: Record<SettingsAction, string> = {
  change_email: "email",
  change_mobile: "mobile",
  add_totp: "totp",
  suspend: "state",
  revoke: "state",
};

export interface SettingsData {
  action: SettingsAction;
  /** The authenticator app being added. */
  factorId?: string;
  /** Where the last code went (masked when it is a contact already on file), to say so again. */
  sentTo?: string;
}

export const SETTINGS = "settings";
export const statePurpose = (flowId: string) => `flow:${flowId}:account_state`;
