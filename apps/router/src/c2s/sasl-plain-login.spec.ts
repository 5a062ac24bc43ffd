// The delay before a failed login is answered: per IP address and per account, the longer of
// the two; a successful login never waits.
import { Element } from 'ltx';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JwtDocument } from '#config';
import type { C2sMetrics } from './c2s-metrics';
import {
  FAILED_AUTH_BASE_DELAY_MS,
  FailedAuthThrottle,
  FailedLoginsPerAccount,
} from './connection-limits';
import type { JwtLoginVerifier } from './jwt-login';
import { LoginAttempts } from './login-attempts';
import { encodePlain } from './sasl-plain';
import { SaslPlainLogin, type SaslContext, type SaslOutcome } from './sasl-plain-login';
import { NS_SASL } from './xmpp-namespaces';

const GOOD_TOKEN = 'the-right-token';

function setup() {
  const verifier = {
    verify: (token: string) =>
      Promise.resolve(
        token === GOOD_TOKEN
          ? { ok: true as const }
          : { ok: false as const, reason: 'bad-signature' as const },
      ),
  } as unknown as JwtLoginVerifier;
  const deps = {
    verifier,
    authThrottle: new FailedAuthThrottle(),
    accountThrottle: new FailedLoginsPerAccount(),
    attempts: new LoginAttempts(),
    metrics: { logins: { inc: () => undefined } } as unknown as C2sMetrics,
    logger: { log: () => undefined, error: () => undefined, warn: () => undefined },
  };
  return deps;
}

function context(ip: string): SaslContext {
  return {
    domain: 'example.com',
    plainOffered: true,
    tlsFirst: false,
    jwt: {} as JwtDocument,
    ip,
    ended: () => false,
  };
}

function auth(authcid: string, token: string): Element {
  const element = new Element('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' });
  element.t(encodePlain(authcid, token));
  return element;
}

/** How long (fake) time had to advance before the login was answered. */
async function answeredAfter(attempt: Promise<SaslOutcome>): Promise<number> {
  let done = false;
  void attempt.then(() => (done = true));
  let waited = 0;
  while (!done) {
    await vi.advanceTimersByTimeAsync(10);
    waited += 10;
    if (waited > 10_000) throw new Error('never answered');
  }
  return waited;
}

describe('SaslPlainLogin failure delays', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('slows guesses at one account spread over many addresses', async () => {
    const deps = setup();
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const login = new SaslPlainLogin(deps, () => undefined);
      waits.push(
        await answeredAfter(login.handle(auth('Victim', `guess-${i}`), context(`10.0.0.${i}`))),
      );
    }
    // Each address is new, yet the account's count grows: 100, 200, 400, 800, 1600 ms.
    for (let i = 0; i < 5; i++) {
      expect(waits[i]).toBeGreaterThanOrEqual(FAILED_AUTH_BASE_DELAY_MS * 2 ** i);
      expect(waits[i]).toBeLessThan(FAILED_AUTH_BASE_DELAY_MS * 2 ** i + 50);
    }
  });

  it('keys the account by its normalised bare JID', async () => {
    const deps = setup();
    for (const name of ['carol', 'CAROL', 'carol@example.com', 'Carol@Example.com']) {
      const login = new SaslPlainLogin(deps, () => undefined);
      await answeredAfter(login.handle(auth(name, 'wrong'), context(`10.1.0.${name.length}`)));
    }
    expect(deps.accountThrottle.failed('carol@example.com')).toBe(16 * FAILED_AUTH_BASE_DELAY_MS);
  });

  it('answers a good token at once, however many failures the account had', async () => {
    const deps = setup();
    for (let i = 0; i < 4; i++) {
      const login = new SaslPlainLogin(deps, () => undefined);
      await answeredAfter(login.handle(auth('dave', 'wrong'), context(`10.2.0.${i}`)));
    }
    const written: string[] = [];
    const login = new SaslPlainLogin(deps, (xml) => written.push(xml));
    const outcome = await login.handle(auth('dave', GOOD_TOKEN), context('10.2.1.1'));
    expect(outcome.kind).toBe('success');
    expect(written[0]).toContain('<success');
  });

  it('uses the address delay alone when no account is named', async () => {
    const deps = setup();
    for (let i = 0; i < 3; i++) {
      const login = new SaslPlainLogin(deps, () => undefined);
      await answeredAfter(login.handle(auth('a@other.example', 'x'), context('10.3.0.1')));
    }
    expect(deps.accountThrottle.size).toBe(0);
    expect(deps.authThrottle.failed('10.3.0.1')).toBe(8 * FAILED_AUTH_BASE_DELAY_MS);
  });

  it('counts the addresses of one IPv6 /64 as one', async () => {
    const deps = setup();
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const login = new SaslPlainLogin(deps, () => undefined);
      // No account named: only the address counts, and each guess comes from a new one.
      const ip = `2001:db8:3::${i + 1}`;
      waits.push(await answeredAfter(login.handle(auth('a@other.example', 'x'), context(ip))));
    }
    expect(waits[2]).toBeGreaterThanOrEqual(4 * FAILED_AUTH_BASE_DELAY_MS);
    expect(deps.authThrottle.size).toBe(1);
  });
});

describe('SaslPlainLogin attempts in parallel', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers parallel guesses from one address a few at a time, the rest temporary-auth-failure', async () => {
    const deps = setup();
    const written: string[] = [];
    const started = Date.now();
    const answeredAt: number[] = [];
    const guesses = Array.from({ length: 40 }, (_, i) => {
      const login = new SaslPlainLogin(deps, (xml) => written.push(xml));
      return login
        .handle(auth(`user-${i}`, 'wrong'), context('10.4.0.1'))
        .then(() => answeredAt.push(Date.now() - started));
    });
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all(guesses);
    const checked = written.filter((xml) => xml.includes('<not-authorized/>'));
    const refused = written.filter((xml) => xml.includes('<temporary-auth-failure/>'));
    expect(checked.length + refused.length).toBe(40);
    // Two at a time, each waiting its growing delay: 100+400+1600+2000 ms on one place
    // within the 5 s any attempt waits in line. Without the bound all 40 would be checked.
    expect(checked.length).toBeLessThanOrEqual(10);
    expect(Math.max(...answeredAt)).toBeGreaterThanOrEqual(5_000);
  });

  it('holds back parallel guesses from one IPv6 /64 as from one address', async () => {
    const deps = setup();
    const written: string[] = [];
    const guesses = Array.from({ length: 40 }, (_, i) =>
      new SaslPlainLogin(deps, (xml) => written.push(xml)).handle(
        auth(`user-${i}`, 'wrong'),
        context(`2001:db8:4::${(i + 1).toString(16)}`),
      ),
    );
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all(guesses);
    const checked = written.filter((xml) => xml.includes('<not-authorized/>'));
    const refused = written.filter((xml) => xml.includes('<temporary-auth-failure/>'));
    expect(checked.length + refused.length).toBe(40);
    // 40 addresses, yet one line: without the prefix every guess would be checked.
    expect(checked.length).toBeLessThanOrEqual(10);
  });
});

describe('SaslPlainLogin good logins in parallel', () => {
  it('lets good logins of many accounts from one address in, none waiting for another', async () => {
    const deps = setup();
    const outcomes: Promise<SaslOutcome>[] = [];
    for (let i = 0; i < 100; i++) {
      // Each stream's <auth/> arrives in a turn of the event loop of its own, as from sockets.
      await new Promise((resolve) => setImmediate(resolve));
      outcomes.push(
        new SaslPlainLogin(deps, () => undefined).handle(
          auth(`nat-user-${i}`, GOOD_TOKEN),
          context('10.5.0.1'),
        ),
      );
    }
    const kinds = (await Promise.all(outcomes)).map((outcome) => outcome.kind);
    expect(kinds).toEqual(Array(100).fill('success'));
    expect(deps.attempts.size).toEqual({ addresses: 0, accounts: 0 });
  });
});
