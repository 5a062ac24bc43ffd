import { describe, expect, it } from 'vitest';
import { parseDeclarativeFile } from './declarative-file';
import { CliError } from './exit-codes';

function usageMessage(text: string): string {
  try {
    parseDeclarativeFile(text, 'm.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).kind).toBe('usage');
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('parseDeclarativeFile', () => {
  it('takes baseRevision out of the document', () => {
    expect(parseDeclarativeFile('baseRevision: 7\nglobalHost: example.com\n', 'm.yaml')).toEqual({
      baseRevision: 7,
      config: { globalHost: 'example.com' },
    });
  });

  it('accepts a file without a base revision, and JSON', () => {
    expect(parseDeclarativeFile('{"globalHost": "example.com"}', 'm.json')).toEqual({
      baseRevision: null,
      config: { globalHost: 'example.com' },
    });
  });

  it('refuses what is not one mapping, malformed YAML, duplicate keys and a bad base', () => {
    expect(usageMessage('')).toContain('must hold one mapping');
    expect(usageMessage('- a\n')).toContain('must hold one mapping');
    expect(usageMessage('a: [1\n')).toContain('m.yaml is not valid YAML');
    expect(usageMessage('a: 1\na: 2\n')).toContain('is not valid YAML');
    expect(usageMessage('baseRevision: 0\n')).toContain('baseRevision must be a revision number');
    expect(usageMessage('baseRevision: "3"\n')).toContain('baseRevision must be a revision number');
  });
});
