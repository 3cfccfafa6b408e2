// `mtls-edge start`: load the configuration (file ← flags), start observability and the edge, print
// how to try it, and drain on SIGTERM/SIGINT. Exit codes: 0 clean stop, 1 runtime failure, 2 bad
// configuration (the message names the file and field).
import type { Argv, CommandModule, Options } from 'yargs';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ConfigError } from '../config/configError.js';
import { overridesFromArgs, processSettings, settingLabel, startFlagEntries, type ConfigOverrides, type ProcessSettings } from '../config/startFlags.js';
import { CliError } from './cliError.js';
import { COMMAND_SUMMARIES } from './commandList.js';

/** `--config` names the file the other flags override, so it is the one start flag outside START_FLAGS. */
interface StartArgs {
  readonly config?: string;
}

/** What the edge needs to run: the loaded configuration and how to load it again on reload. */
export interface StartRequest {
  readonly loaded: LoadedConfig;
  readonly configFile?: string;
  readonly overrides: ConfigOverrides;
  readonly process: ProcessSettings;
  /** process.ppid when `start` began, for --exit-with-parent. */
  readonly parentPid: number;
}

/** yargs' options for the start flags, each saying which setting of the file it overrides. */
export function startOptions(): Record<string, Options> {
  const options: Record<string, Options> = {
    config: { alias: 'c', type: 'string', describe: 'YAML configuration file' },
  };
  for (const [flag, spec] of startFlagEntries()) {
    const suffix = 'process' in spec.sets ? 'not a setting of the file' : `overrides ${settingLabel(spec.sets)}`;
    options[flag] = { type: spec.type, array: spec.array, choices: spec.choices ? [...spec.choices] : undefined, describe: `${spec.describe} (${suffix})` };
  }
  return options;
}

export const startCommand: CommandModule<object, StartArgs> = {
  ...COMMAND_SUMMARIES.start,
  builder: (y: Argv) => y.options(startOptions()) as unknown as Argv<StartArgs>,
  handler: async (args) => {
    const parentPid = process.ppid;
    // An empty path would resolve to the working directory (an empty --config, to the embedded
    // default, silently); it is most often a script's unset variable.
    const pathFlags = ['config', ...startFlagEntries().filter(([, spec]) => spec.isPath).map(([flag]) => flag)];
    for (const flag of pathFlags) {
      const value = (args as Readonly<Record<string, unknown>>)[flag];
      if (value === '' || (Array.isArray(value) && value.includes(''))) throw new CliError(`--${flag} "": --${flag} needs a path, not an empty value (an unset variable in a script?)`, 2);
    }
    const overrides = overridesFromArgs(args);
    let loaded;
    try {
      loaded = await loadConfig({ file: args.config, overrides });
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(`configuration error:\n  ${e.joined('\n  ')}`, 2);
      throw e;
    }
    await (await import('./runStart.js')).runStart({ loaded, configFile: args.config, overrides, process: processSettings(overrides, process.cwd()), parentPid });
  },
};
