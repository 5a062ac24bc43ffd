import { describe, expect, it } from 'vitest';
import {
  parseRouterEnv,
  RouterEnv,
  RouterEnvContext,
  RouterEnvError,
  routerEnvWarnings,
} from './router-env';

const context: RouterEnvContext = {
  hostname: 'box7',
  pid: 4242,
  isReadableFile: (path) => path.startsWith('/etc/meridian/'),
};

function problemsOf(raw: Record<string, string>): readonly string[] {
  try {
    parseRouterEnv(raw, context);
  } catch (err) {
    if (err instanceof RouterEnvError) return err.problems;
    throw err;
  }
  throw new Error('expected a RouterEnvError');
}

describe('parseRouterEnv', () => {
  it('applies the documented defaults when only MERIDIAN_LOCAL_HOST is set', () => {
    const env = parseRouterEnv({ MERIDIAN_LOCAL_HOST: 'dc1.example.com' }, context);
    expect(env).toEqual<RouterEnv>({
      localHost: 'dc1.example.com',
      node: 'box7-4242',
      redisUrl: 'redis://127.0.0.1:6379',
      redisBootTimeoutMs: 10_000,
      configBootTimeoutMs: 30_000,
      configPollIntervalMs: 1_000,
      c2sPort: 5222,
      componentPort: 5347,
      httpPort: 5280,
      interlinkListen: { host: '0.0.0.0', port: 5555 },
      interlinkAdvertise: { host: '0.0.0.0', port: 5555 },
      tls: { certFile: undefined, keyFile: undefined, caFile: undefined },
      logLevel: 'info',
      logPretty: false,
    });
  });

  it('reads every variable', () => {
    const env = parseRouterEnv(
      {
        MERIDIAN_LOCAL_HOST: 'DC2.Example.com',
        MERIDIAN_NODE: 'router-a',
        REDIS_URL: 'rediss://:secret@redis.internal:6380/3',
        REDIS_BOOT_TIMEOUT_MS: '2500',
        CONFIG_BOOT_TIMEOUT_MS: '4000',
        CONFIG_POLL_INTERVAL_MS: '250',
        C2S_PORT: '15222',
        COMPONENT_PORT: '15347',
        HTTP_PORT: '0',
        INTERLINK_LISTEN: '[::]:15555',
        INTERLINK_ADVERTISE: '10.1.2.3:25555',
        TLS_CERT: '/etc/meridian/cert.pem',
        TLS_KEY: '/etc/meridian/key.pem',
        TLS_CA: '/etc/meridian/ca.pem',
        LOG_LEVEL: 'DEBUG',
        LOG_PRETTY: '1',
      },
      context,
    );
    expect(env).toEqual<RouterEnv>({
      localHost: 'dc2.example.com',
      node: 'router-a',
      redisUrl: 'rediss://:secret@redis.internal:6380/3',
      redisBootTimeoutMs: 2500,
      configBootTimeoutMs: 4000,
      configPollIntervalMs: 250,
      c2sPort: 15222,
      componentPort: 15347,
      httpPort: 0,
      interlinkListen: { host: '::', port: 15555 },
      interlinkAdvertise: { host: '10.1.2.3', port: 25555 },
      tls: {
        certFile: '/etc/meridian/cert.pem',
        keyFile: '/etc/meridian/key.pem',
        caFile: '/etc/meridian/ca.pem',
      },
      logLevel: 'debug',
      logPretty: true,
    });
  });

  it('advertises the listen address when INTERLINK_ADVERTISE is unset', () => {
    const env = parseRouterEnv(
      { MERIDIAN_LOCAL_HOST: 'dc1.example.com', INTERLINK_LISTEN: '192.168.0.5:6000' },
      context,
    );
    expect(env.interlinkAdvertise).toEqual({ host: '192.168.0.5', port: 6000 });
  });

  it('treats empty variables as unset', () => {
    const env = parseRouterEnv(
      { MERIDIAN_LOCAL_HOST: 'dc1.example.com', C2S_PORT: '', TLS_CA: '  ' },
      context,
    );
    expect(env.c2sPort).toBe(5222);
    expect(env.tls.caFile).toBeUndefined();
  });

  it('returns a deeply frozen object', () => {
    const env = parseRouterEnv({ MERIDIAN_LOCAL_HOST: 'dc1.example.com' }, context);
    expect(Object.isFrozen(env)).toBe(true);
    expect(Object.isFrozen(env.interlinkListen)).toBe(true);
    expect(Object.isFrozen(env.tls)).toBe(true);
  });

  it('requires MERIDIAN_LOCAL_HOST', () => {
    expect(problemsOf({})).toEqual([
      'MERIDIAN_LOCAL_HOST: required (the datacenter domain, e.g. dc1.example.com)',
    ]);
    expect(problemsOf({ MERIDIAN_LOCAL_HOST: ' ' })).toHaveLength(1);
  });

  it.each([
    ['MERIDIAN_LOCAL_HOST', 'dc1..example.com', '"dc1..example.com" is not a domain name'],
    ['MERIDIAN_LOCAL_HOST', 'dc1_example', '"dc1_example" is not a domain name'],
    ['MERIDIAN_NODE', 'node#1', 'must be 1-128 letters, digits'],
    ['MERIDIAN_NODE', 'a b', 'must be 1-128 letters, digits'],
    ['REDIS_URL', 'localhost:6379', 'unsupported scheme "localhost:"'],
    ['REDIS_URL', 'http://127.0.0.1:6379', 'unsupported scheme "http:"'],
    ['REDIS_URL', 'redis://127.0.0.1:6379/x', 'the path must be a database number'],
    ['REDIS_BOOT_TIMEOUT_MS', '0', '"0" is not a positive whole number'],
    ['REDIS_BOOT_TIMEOUT_MS', '1.5', '"1.5" is not a positive whole number'],
    ['CONFIG_BOOT_TIMEOUT_MS', '0', '"0" is not a positive whole number'],
    ['CONFIG_BOOT_TIMEOUT_MS', '30s', '"30s" is not a positive whole number'],
    ['CONFIG_POLL_INTERVAL_MS', '-5', '"-5" is not a positive whole number'],
    ['CONFIG_POLL_INTERVAL_MS', '5000', '5000 is above 2000 (pub/sub notices do not cross'],
    ['C2S_PORT', 'abc', '"abc" is not a port number (0-65535)'],
    ['COMPONENT_PORT', '70000', '"70000" is not a port number (0-65535)'],
    ['HTTP_PORT', '-1', '"-1" is not a port number (0-65535)'],
    ['HTTP_PORT', '80.5', '"80.5" is not a port number (0-65535)'],
    ['INTERLINK_LISTEN', '5555', '"5555" is not host:port'],
    ['INTERLINK_LISTEN', '::1:5555', 'write IPv6 addresses as [addr]:port'],
    ['INTERLINK_LISTEN', '[10.0.0.1]:5555', '"10.0.0.1" is not an IP address or host name'],
    ['INTERLINK_LISTEN', '0.0.0.0:http', '"http" is not a port number'],
    ['INTERLINK_ADVERTISE', '0.0.0.0:5555', 'wildcard address that other nodes cannot dial'],
    ['INTERLINK_ADVERTISE', '10.0.0.1:0', 'port 0 cannot be dialled'],
    ['TLS_CA', '/tmp/ca.pem', 'cannot read file /tmp/ca.pem'],
    ['LOG_LEVEL', 'verbose', '"verbose" is not one of fatal, error, warn, info'],
    ['LOG_PRETTY', 'yes', '"yes" must be 1 or 0'],
  ])('reports %s=%s', (name, value, message) => {
    const problems = problemsOf({ MERIDIAN_LOCAL_HOST: 'dc1.example.com', [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(problems[0]).toContain(message);
  });

  it('lists every bad variable at once, with a readable message', () => {
    let error: unknown;
    try {
      parseRouterEnv({ C2S_PORT: 'abc', HTTP_PORT: '99999', REDIS_URL: 'nope' }, context);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RouterEnvError);
    const { problems, message } = error as RouterEnvError;
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'C2S_PORT',
      'HTTP_PORT',
      'MERIDIAN_LOCAL_HOST',
      'REDIS_URL',
    ]);
    expect(message).toBe(`invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  });

  it('never echoes an unparseable REDIS_URL, which may hold a password', () => {
    const problems = problemsOf({
      MERIDIAN_LOCAL_HOST: 'dc1.example.com',
      REDIS_URL: 'redis://:hunter2@[bad',
    });
    expect(problems[0]).toMatch(/^REDIS_URL: not a valid URL/);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('needs TLS_CERT and TLS_KEY together', () => {
    expect(
      problemsOf({ MERIDIAN_LOCAL_HOST: 'dc1.example.com', TLS_CERT: '/etc/meridian/cert.pem' }),
    ).toEqual(['TLS_CERT and TLS_KEY: set both or neither']);
  });

  it('refuses two listeners on one port', () => {
    expect(
      problemsOf({
        MERIDIAN_LOCAL_HOST: 'dc1.example.com',
        HTTP_PORT: '5222',
        INTERLINK_LISTEN: '0.0.0.0:5347',
      }),
    ).toEqual([
      'C2S_PORT and HTTP_PORT: both use port 5222',
      'COMPONENT_PORT and INTERLINK_LISTEN: both use port 5347',
    ]);
  });

  it('lets several listeners ask for an ephemeral port', () => {
    const env = parseRouterEnv(
      { MERIDIAN_LOCAL_HOST: 'dc1.example.com', C2S_PORT: '0', HTTP_PORT: '0' },
      context,
    );
    expect([env.c2sPort, env.httpPort]).toEqual([0, 0]);
  });
});

describe('routerEnvWarnings', () => {
  it('warns when the advertised interlink address is the wildcard listen address', () => {
    const env = parseRouterEnv({ MERIDIAN_LOCAL_HOST: 'dc1.example.com' }, context);
    expect(routerEnvWarnings(env)).toEqual([
      expect.stringContaining('INTERLINK_ADVERTISE is 0.0.0.0:5555 (the listen address)'),
    ]);
  });

  it('is quiet when the advertised address can be dialled', () => {
    const env = parseRouterEnv(
      { MERIDIAN_LOCAL_HOST: 'dc1.example.com', INTERLINK_ADVERTISE: 'node1.dc1.example.com:5555' },
      context,
    );
    expect(routerEnvWarnings(env)).toEqual([]);
  });
});
