// The declarative configuration file of `apply -f` and `diff -f`: the whole configuration
// as YAML (or JSON), exactly the document of GET /v1/config, plus an optional top-level
// `baseRevision` naming the revision it was written from (`meridianctl get config` adds
// it), so that applying it over somebody else's newer change is refused.
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseDocument } from 'yaml';
import { usageError } from './exit-codes';

export interface DeclarativeFile {
  readonly baseRevision: number | null;
  /** The configuration document, as sent to PUT /v1/config. */
  readonly config: Record<string, unknown>;
}

export const BASE_REVISION_KEY = 'baseRevision';

export async function readDeclarativeFile(path: string, stdin: Readable): Promise<DeclarativeFile> {
  let text: string;
  try {
    text = path === '-' ? await readAll(stdin) : readFileSync(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseDeclarativeFile(text, path === '-' ? 'stdin' : path);
}

export function parseDeclarativeFile(text: string, name: string): DeclarativeFile {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw usageError(`${name} is not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const value: unknown = document.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw usageError(
      `${name} must hold one mapping: the whole configuration (globalHost, datacenters, ...)`,
    );
  }
  const { [BASE_REVISION_KEY]: base, ...config } = value as Record<string, unknown>;
  if (base !== undefined && base !== null && !(Number.isInteger(base) && (base as number) > 0)) {
    throw usageError(
      `${name}: ${BASE_REVISION_KEY} must be a revision number, not ${JSON.stringify(base)}`,
    );
  }
  return { baseRevision: (base as number | null | undefined) ?? null, config };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
