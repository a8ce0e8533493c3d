import { type Command, Option } from "commander";
import { configFileSetting, loadSettings, type Settings, settingDefinitions, settingNames } from "../shared/config/settings.ts";
import type { CliIo } from "./io.ts";

/** Adds a flag for every setting that has one, plus --config, to a command. */
export function withSettingsOptions(command: Command): Command {
  for (const name of settingNames) {
    const def = settingDefinitions[name];
    if (def.flag) command.addOption(new Option(def.flag, `${def.doc} [env ${def.env}]`));
  }
  return command.addOption(new Option(configFileSetting.flag, `${configFileSetting.doc} [env ${configFileSetting.env}]`));
}

export function settingsFrom(command: Command, io: CliIo): Settings {
  return loadSettings({ flags: command.opts(), env: io.env, cwd: io.cwd });
}
