import { describe, expect, it } from 'vitest';
import { describeListenError } from './boot-error';

function errno(code: string, message = `listen ${code}`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('describeListenError', () => {
  it('names the setting and port when the port is taken', () => {
    expect(describeListenError(errno('EADDRINUSE'), 'HTTP_PORT', 5280)).toBe(
      'HTTP_PORT: port 5280 is already in use by another process',
    );
  });

  it('explains privileged ports', () => {
    expect(describeListenError(errno('EACCES'), 'C2S_PORT', 80)).toMatch(
      /^C2S_PORT: not allowed to listen on port 80/,
    );
  });

  it('keeps the original message for anything else', () => {
    expect(describeListenError(errno('EINVAL', 'bad things'), 'HTTP_PORT', 1)).toBe(
      'HTTP_PORT: cannot listen on port 1: bad things',
    );
    expect(describeListenError('weird', 'HTTP_PORT', 1)).toBe(
      'HTTP_PORT: cannot listen on port 1: weird',
    );
  });
});
