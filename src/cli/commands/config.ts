// ocfleet config get|set|unset|list: the command line's defaults (see cli/config.ts).
import type { Command } from "../commander.js";
import { defineOutput } from "../command.js";
import { CONFIG_KEYS, checkConfigKey, configPath, readConfig, writeConfig, type ConfigKey } from "../config.js";
import { CliError, formatTable, style } from "../output.js";

export function registerConfigCommands(program: Command): void {
  const config = program.command("config").description(`your defaults: ${Object.keys(CONFIG_KEYS).join(", ")} (kept in $XDG_CONFIG_HOME/ocfleet/config.json)`);

  defineOutput(config.command("get <key>").description("print a setting (nothing if unset)"), {
    run: async ([key]) => ({ key: checkConfigKey(key!), value: readConfig()[checkConfigKey(key!)] ?? null }),
    human: ({ value }) => (value === null ? undefined : value),
  });

  defineOutput(config.command("set <key> <value>").description("change a setting"), {
    run: async ([key, value]) => {
      const name = checkConfigKey(key!);
      if (!CONFIG_KEYS[name].check(value!)) throw new CliError(`<value>: '${value}' is not ${CONFIG_KEYS[name].help.replace(/^the /, "a ")}`, 2);
      writeConfig({ ...readConfig(), [name]: value });
      return { key: name, value: value! };
    },
    human: ({ key, value }) => `${key} = ${value}`,
  });

  defineOutput(config.command("unset <key>").description("remove a setting"), {
    run: async ([key]) => {
      const name = checkConfigKey(key!);
      const { [name]: _removed, ...rest } = readConfig();
      writeConfig(rest);
      return { key: name };
    },
    human: ({ key }) => `${key} unset`,
  });

  defineOutput(config.command("list").description("every setting, set or not, and where the file is"), {
    run: async () => ({ path: configPath(), settings: readConfig() }),
    json: ({ settings }) => settings,
    human: ({ path, settings }) => [
      formatTable((Object.keys(CONFIG_KEYS) as ConfigKey[]).map((key) => [key, settings[key] ?? style.dim("(unset)"), style.dim(CONFIG_KEYS[key].help)])),
      style.dim(`(${path})`),
    ],
  });
}
