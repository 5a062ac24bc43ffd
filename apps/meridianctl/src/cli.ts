// meridianctl: a thin client of control's REST API for operators and scripts. `run` parses
// the command line, runs one command and returns its exit code (exit-codes.ts); it never
// exits the process itself, so tests drive it in-process.
import { parseArgs } from 'node:util';
import { CommandContext, type CliIo } from './cli-context';
import { applyCommand, diffCommand } from './commands/apply';
import { chatCommand } from './commands/chat';
import { domainsCommand } from './commands/domains';
import { getCommand, RESOURCE_NAMES } from './commands/get';
import { revisionsCommand, rollbackCommand } from './commands/revisions';
import { statusCommand } from './commands/status';
import { tokenCommand } from './commands/token';
import { CliError, ExitCode, usageError } from './exit-codes';
import { localStateDir } from './local-installation';
import { OUTPUT_FORMATS, toJson, type OutputFormat } from './output';

export type { CliIo } from './cli-context';

interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly string[];
  run(ctx: CommandContext): Promise<number>;
}

const GLOBAL_OPTIONS = ['control', 'token', 'ca-file', 'output', 'timeout', 'help'] as const;

const OPTIONS = {
  control: { type: 'string' },
  token: { type: 'string' },
  'ca-file': { type: 'string' },
  output: { type: 'string', short: 'o' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  file: { type: 'string', short: 'f' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  comment: { type: 'string' },
  wait: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  after: { type: 'string' },
  'host-type': { type: 'string' },
  enabled: { type: 'string' },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
  ttl: { type: 'string' },
  claim: { type: 'string' },
  as: { type: 'string' },
  dc: { type: 'string' },
  server: { type: 'string' },
  to: { type: 'string' },
  jwt: { type: 'string' },
  ca: { type: 'string' },
  resource: { type: 'string' },
} as const;

const COMMANDS: Record<string, Command> = {
  status: {
    usage: 'status [--wait <duration>]',
    summary: 'datacenters, routers and the revision each runs; exit 1 unless all run the latest',
    options: ['wait'],
    run: statusCommand,
  },
  get: {
    usage: `get <resource> [name]   (${RESOURCE_NAMES.join(', ')})`,
    summary: 'read anything from control; `get config` prints an apply-ready file',
    options: ['limit', 'before', 'after', 'host-type', 'enabled'],
    run: getCommand,
  },
  apply: {
    usage: 'apply -f <file|-> [--dry-run] [--force] [--comment <text>] [--wait <duration>]',
    summary: 'make the configuration equal to the file: shows the diff, one revision for the lot',
    options: ['file', 'dry-run', 'force', 'comment', 'wait'],
    run: applyCommand,
  },
  diff: {
    usage: 'diff -f <file|->',
    summary: 'what apply would change; exit 1 when there are differences',
    options: ['file'],
    run: diffCommand,
  },
  revisions: {
    usage: 'revisions [--limit <n>] [--before <n>]',
    summary: 'the revision history, newest first',
    options: ['limit', 'before'],
    run: revisionsCommand,
  },
  rollback: {
    usage: 'rollback <n> [--dry-run] [--comment <text>] [--wait <duration>]',
    summary: 'a new revision equal to revision n',
    options: ['dry-run', 'comment', 'wait'],
    run: rollbackCommand,
  },
  domains: {
    usage: 'domains add|enable|disable|remove <domain> [--host-type <name>] | domains list',
    summary: 'dynamic domains',
    options: ['host-type', 'enabled', 'after', 'limit'],
    run: domainsCommand,
  },
  token: {
    usage: 'token mint <jid> [--secret <s> | --secret-file <f>] [--ttl 24h] [--claim sub]',
    summary: 'a development JWT (HS256) for logging in as <jid>',
    options: ['secret', 'secret-file', 'ttl', 'claim'],
    run: tokenCommand,
  },
  chat: {
    usage:
      'chat --as <jid> [--dc <dc1|dc1.example.com|node> | --server <host:port>] [--to <jid>] [--jwt <token>] [--ca <file>]',
    summary: 'a tiny XMPP client over c2s (STARTTLS, dev CA verified, JWT login)',
    options: ['as', 'dc', 'server', 'to', 'jwt', 'ca', 'resource', 'secret', 'secret-file'],
    run: chatCommand,
  },
};

export function usageText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'meridianctl: operate a Meridian control plane',
    '',
    'Usage: meridianctl <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    ...Object.values(COMMANDS).map((c) => `  meridianctl ${c.usage}`),
    '',
    'Options for every command:',
    "  --control <url>     control's URL (MERIDIAN_CONTROL_URL; default: the local installation, else http://127.0.0.1:8080)",
    '  --token <token>     admin token (MERIDIAN_TOKEN; default: .local/admin-token of npm start)',
    "  --ca-file <file>    CA that signed control's HTTPS certificate (MERIDIAN_CA_FILE; default: the system's CAs)",
    '  -o, --output <fmt>  text (default), json or yaml',
    '  --timeout <s>       HTTP timeout in seconds (default 10)',
    '',
    'Exit codes: 0 ok; 1 diff found differences / routers not converged; 2 usage; 3 control',
    'unreachable or unavailable; 4 auth refused; 5 invalid input; 6 not found; 7 conflict;',
    '8 stale base revision (apply --force overrides); 9 unexpected.',
    '',
  ].join('\n');
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let output: OutputFormat = 'text';
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        options: OPTIONS,
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw usageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const format = values.output ?? 'text';
    if (!OUTPUT_FORMATS.includes(format as OutputFormat)) {
      throw usageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')}, not "${format}"`);
    }
    output = format as OutputFormat;
    const name = positionals[0];
    if (values.help || name === undefined || name === 'help') {
      io.out(usageText());
      return name === undefined && !values.help ? ExitCode.usage : ExitCode.ok;
    }
    const command = COMMANDS[name];
    if (!command) throw usageError(`unknown command "${name}" (meridianctl --help lists them)`);
    const allowed = new Set<string>([...GLOBAL_OPTIONS, ...command.options]);
    for (const option of Object.keys(values)) {
      if (!allowed.has(option)) throw usageError(`${name} does not take --${option}`);
    }
    const ctx = new CommandContext(io, positionals.slice(1), values, output, localStateDir(io.env));
    return await command.run(ctx);
  } catch (err) {
    return report(err, io, output);
  }
}

function report(err: unknown, io: CliIo, output: OutputFormat): number {
  const error =
    err instanceof CliError
      ? err
      : new CliError('internal', err instanceof Error ? err.message : String(err));
  if (output === 'json') {
    io.err(
      toJson({
        error: {
          kind: error.kind,
          exitCode: error.exitCode,
          message: error.message,
          status: error.details.status ?? null,
          errors: error.details.errors ?? [],
          hint: error.details.hint ?? null,
        },
      }),
    );
  } else {
    let text = `meridianctl: ${error.message}\n`;
    for (const field of error.details.errors ?? []) text += `  - ${field.path}: ${field.message}\n`;
    if (error.details.hint) text += `  hint: ${error.details.hint}\n`;
    if (error.kind === 'usage') text += '  hint: meridianctl --help shows the usage\n';
    io.err(text);
  }
  return error.exitCode;
}
