import { Logger, type INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseControlEnv, type ControlEnv } from '../env/control-env';
import { isLoopbackAddress, listenControl } from './listen';

describe('isLoopbackAddress', () => {
  it('knows loopback from every interface and other addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of [
      '::',
      '0.0.0.0',
      '10.0.0.1',
      '::ffff:10.0.0.1',
      'fe80::1',
      '128.0.0.1',
    ]) {
      expect(isLoopbackAddress(address), address).toBe(false);
    }
  });
});

describe('listenControl', () => {
  afterEach(() => vi.restoreAllMocks());

  /** An app that "listens" where the real one would, and the lines logged about it. */
  async function listen(env: ControlEnv, address: string) {
    const listened: unknown[][] = [];
    const app = {
      listen: async (...args: unknown[]) => void listened.push(args),
      getHttpServer: () => ({ address: () => ({ address, port: 8080 }) }),
    } as unknown as INestApplication;
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await listenControl(app, env);
    return {
      listened,
      log: log.mock.calls.map((c) => c[0]),
      warn: warn.mock.calls.map((c) => c[0]),
    };
  }

  it('warns when plain HTTP listens beyond loopback (every interface by default)', async () => {
    const { listened, log, warn } = await listen(parseControlEnv({}), '::');
    expect(listened).toEqual([[8080]]);
    expect(log).toEqual([]);
    expect(warn).toEqual([
      expect.stringMatching(
        /^plain HTTP on \[::\]:8080: bearer tokens and secrets travel in clear; set CONTROL_TLS_CERT and CONTROL_TLS_KEY/,
      ),
    ]);
  });

  it('only says so when plain HTTP listens on loopback (CONTROL_HOST)', async () => {
    const env = parseControlEnv({ CONTROL_HOST: '127.0.0.1' });
    const { listened, log, warn } = await listen(env, '127.0.0.1');
    expect(listened).toEqual([[8080, '127.0.0.1']]);
    expect(log).toEqual(['plain HTTP on 127.0.0.1:8080 (loopback only)']);
    expect(warn).toEqual([]);
  });
});
