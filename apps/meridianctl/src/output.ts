// How meridianctl prints: aligned tables and readable lines for people (`-o text`, the
// default), or the data itself as JSON or YAML for scripts (`-o json`, `-o yaml`).
import type { ConfigChange } from '#config';
import { stringify } from 'yaml';

export type OutputFormat = 'text' | 'json' | 'yaml';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json', 'yaml'];

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

function inline(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** One line per change: `~ path: before -> after`, `+ path: value`, `- path: value`. */
export function renderChanges(changes: readonly ConfigChange[]): string {
  return changes
    .map((change) => {
      if (change.op === 'add') return `+ ${change.path}: ${inline(change.after)}`;
      if (change.op === 'remove') return `- ${change.path}: ${inline(change.before)}`;
      return `~ ${change.path}: ${inline(change.before)} -> ${inline(change.after)}`;
    })
    .join('\n')
    .concat(changes.length > 0 ? '\n' : '');
}

/** `3s ago`, `2m ago`, `5h ago`, `4d ago`. */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}

const TOP_LEVEL_ORDER = [
  'globalHost',
  'datacenters',
  'endpointOverrides',
  'messageTtl',
  'connections',
  'cache',
  'bounce',
  'redis',
  'hostTypes',
  'components',
  'auth',
  'limits',
];
/** Keys that name an item of a list: shown first. */
const NAMING_KEYS = ['localHost', 'name', 'domain', 'host'];

/**
 * The configuration with its keys in a stable, readable order (PostgreSQL's jsonb returns
 * them by length): the main options first, names first inside items, the rest alphabetical.
 */
export function readableConfig(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((item) => readableConfig(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const rank = (key: string) => {
    const order = depth === 0 ? TOP_LEVEL_ORDER : NAMING_KEYS;
    const index = order.indexOf(key);
    return index === -1 ? order.length : index;
  };
  const keys = Object.keys(value).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(
    keys.map((key) => [key, readableConfig((value as Record<string, unknown>)[key], depth + 1)]),
  );
}
