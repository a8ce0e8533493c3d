import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configFileSetting, settingDefinitions, settingNames } from "../../src/shared/config/settings.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  scripts: Record<string, string>;
};

describe("README", () => {
  it("starts with the two commands", () => {
    const firstCode = readme.match(/```sh\n([^`]+)```/)?.[1];
    expect(firstCode).toBe("npm install && npm start\n");
    expect(readme.indexOf("npm test")).toBeLessThan(readme.indexOf("## What Tessera is"));
    expect(pkg.scripts.start).toBe("node bin/tessera.js start --demo");
    // Everything with vitest, then the resilience suite on its own (it restarts PostgreSQL and Redis).
    expect(pkg.scripts.test).toBe("vitest run && npm run test:cluster");
  });

  it("documents every setting with its flag, environment variable and config key", () => {
    for (const name of settingNames) {
      const def = settingDefinitions[name];
      const flag = def.flag ? `\`${def.flag.split(" ")[0]}\`` : "none";
      expect(readme, name).toContain(`| \`${name}\` | ${flag} | \`${def.env}\` |`);
    }
    expect(readme).toContain(configFileSetting.env);
  });
});
