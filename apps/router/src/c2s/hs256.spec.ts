import { createHmac, createSecretKey } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkTimeClaims, verifyHs256 } from './hs256';

const SECRET = 'a-test-secret-of-at-least-32-characters!!';
const KEY = createSecretKey(Buffer.from(SECRET));
const RAW = new TextEncoder().encode(SECRET);
const NOW = 1_800_000_000;
const LEEWAY = 30;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...header }).sign(RAW);
}

/** Any header, signed as it is (jose refuses to sign unknown critical extensions). */
function signRaw(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

/** Accepted by the fast path: signature, then the time claims. */
function fastAccepts(token: string, requireExp = false): boolean {
  const result = verifyHs256(token, KEY);
  return result.ok && checkTimeClaims(result.payload, NOW, LEEWAY, requireExp) === null;
}

async function joseAccepts(token: string, requireExp = false): Promise<boolean> {
  try {
    const { payload } = await jwtVerify(token, RAW, {
      algorithms: ['HS256'],
      clockTolerance: LEEWAY,
      currentDate: new Date(NOW * 1000),
      requiredClaims: requireExp ? ['exp'] : [],
    });
    // The login also refuses an iat in the future (jose only bounds its age).
    return !(typeof payload.iat === 'number' && payload.iat > NOW + LEEWAY);
  } catch {
    return false;
  }
}

describe('verifyHs256', () => {
  it('accepts a good token and names what is wrong with bad ones', async () => {
    const good = await sign({ sub: 'alice', exp: NOW + 60 });
    expect(verifyHs256(good, KEY)).toEqual({ ok: true, payload: { sub: 'alice', exp: NOW + 60 } });
    const [h, p, s] = good.split('.') as [string, string, string];
    const other = b64({ sub: 'mallory', exp: NOW + 60 });
    expect(verifyHs256(`${h}.${other}.${s}`, KEY)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyHs256(`${h}.${p}.${s.slice(0, -2)}`, KEY)).toMatchObject({
      reason: 'bad-signature',
    });
    expect(verifyHs256(`${h}.${p}`, KEY)).toMatchObject({ reason: 'malformed-token' });
    expect(verifyHs256(`${h}.${p}.${s}.x`, KEY)).toMatchObject({ reason: 'malformed-token' });
    expect(verifyHs256(`${h}.${p}.${s}=`, KEY)).toMatchObject({ reason: 'malformed-token' });
    expect(verifyHs256(`${b64({ alg: 'none' })}.${p}.`, KEY)).toMatchObject({
      reason: 'wrong-algorithm',
    });
    expect(verifyHs256(`${b64('HS256')}.${p}.${s}`, KEY)).toMatchObject({
      reason: 'malformed-token',
    });
  });

  it('checks exp, nbf and iat with the leeway, and their types', () => {
    const check = (payload: Record<string, unknown>, requireExp = true) =>
      checkTimeClaims(payload, NOW, LEEWAY, requireExp);
    expect(check({ exp: NOW - LEEWAY + 1 })).toBeNull();
    expect(check({ exp: NOW - LEEWAY })).toBe('expired');
    expect(check({})).toBe('missing-exp');
    expect(check({}, false)).toBeNull();
    expect(check({ exp: NOW + 60, nbf: NOW + LEEWAY })).toBeNull();
    expect(check({ exp: NOW + 60, nbf: NOW + LEEWAY + 1 })).toBe('not-yet-valid');
    expect(check({ exp: NOW + 60, iat: NOW + LEEWAY + 1 })).toBe('not-yet-valid');
    expect(check({ exp: String(NOW + 60) })).toBe('malformed-token');
    expect(check({ exp: NOW + 60, nbf: null })).toBe('malformed-token');
  });

  it('decides as jose does on the same tokens, mutated at random', async () => {
    const seeds = [
      await sign({ sub: 'alice', exp: NOW + 60 }),
      await sign({ sub: 'alice', exp: NOW - 29, nbf: NOW + 29, iat: NOW }),
      await sign({ sub: 'alice', exp: NOW - 31 }),
      await sign({ sub: 'alice', exp: NOW + 60, nbf: NOW + 31 }),
      await sign({ sub: 'alice' }),
      signRaw({ alg: 'HS256', crit: ['x'], x: 1 }, { sub: 'alice', exp: NOW + 60 }),
      signRaw({ alg: 'HS256' }, { sub: 'alice', exp: 'soon' }),
      await sign({ sub: 'alice', exp: NOW + 60 }, { typ: 'JWT', kid: 'k1' }),
      `${b64({ alg: 'HS256' })}.${b64([1, 2])}.AAAA`,
    ];
    let state = 42;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    const tokens = [...seeds];
    for (let i = 0; i < 400; i++) {
      const seed = seeds[random(seeds.length)]!;
      const at = random(seed.length);
      const how = random(3);
      const char = alphabet[random(alphabet.length)]!;
      tokens.push(
        how === 0
          ? seed.slice(0, at) + char + seed.slice(at + 1)
          : how === 1
            ? seed.slice(0, at) + seed.slice(at + 1)
            : seed.slice(0, at) + char + seed.slice(at),
      );
    }
    for (const token of tokens) {
      for (const requireExp of [false, true]) {
        expect({ token, requireExp, accepted: fastAccepts(token, requireExp) }).toEqual({
          token,
          requireExp,
          accepted: await joseAccepts(token, requireExp),
        });
      }
    }
  });
});
