import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.ts';

/** What the command line asks for. */
export interface CommandLine {
  readonly help: boolean;
  readonly version: boolean;
  /** Load and check the configuration, print it, exit: never start reading. */
  readonly checkConfig: boolean;
  /** `--config FILE`, in the form the configuration loader reads. */
  readonly configArgs: readonly string[];
}

export const USAGE = `Usage: nodetail [--config FILE] [--check-config]
       npm start -- [options]       (the same, from a clone: Node 24 comes with it)

Reads this node's log files and ships them to Elasticsearch (or to stdout when no
ELASTICSEARCH_URL is set: one JSON record per line, the self-log on stderr).

Options:
  --config FILE    YAML file of settings (keys as in the README's configuration table);
                   environment variables win over it
  --check-config   load and check the settings, print each one with where it came from
                   (default, the file, or which variable; secrets redacted), and exit:
                   0 when valid, 2 when not
  --version        print the version and exit
  -h, --help       print this help and exit

Settings: every key, its NODETAIL_* variable, default and meaning is in the README's
"Configuration" section (generated from agent/config/options.ts); Fluentd's
FLUENT_ELASTICSEARCH_* variables are read too ("Migrating from Fluentd").
Exit status: 0 on a clean stop, 2 on a configuration or usage error.
`;

/** Parses the agent's arguments strictly: an unknown option or a stray argument is a usage error (exit 2). */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        'check-config': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw usageError(err as NodeJS.ErrnoException);
  }
  const { values } = parsed;
  return {
    help: values.help === true,
    version: values.version === true,
    checkConfig: values['check-config'] === true,
    configArgs: values.config === undefined ? [] : ['--config', values.config],
  };
}

/** parseArgs' messages advise `--` for positionals, which nodetail takes none of: name the argument instead. */
function usageError(err: NodeJS.ErrnoException): ConfigError {
  const named = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new ConfigError(named, 'unknown option (nodetail --help lists the options)');
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new ConfigError(named, 'unexpected argument: nodetail takes options only (nodetail --help)');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new ConfigError(/--[a-z-]+/.exec(err.message)?.[0] ?? 'argument', `${err.message.replace(/^Option '[^']*' /, '')} (nodetail --help)`);
    default:
      return new ConfigError('argument', `${err.message} (nodetail --help)`);
  }
}
