// The SASL exchange of one stream (RFC 6120 §6): PLAIN only, with or without an initial
// response, the password checked as a JWT (jwt-login.ts). Failures are counted per stream and
// delayed per IP address and per account, and only a few attempts per address and per
// account are checked at a time (login-attempts.ts); both count an IPv6 address by its /64
// (throttleKey). The reason goes to the metrics and the log, never the token.
import type { LoggerService } from '@nestjs/common';
import type { Element } from 'ltx';
import { throttleKey } from '#common';
import type { JwtDocument } from '#config';
import { bareString, jid, jidToString, parseJid, type Jid } from '#xmpp';
import type { C2sMetrics } from './c2s-metrics';
import type { FailedAuthThrottle, FailedLoginsPerAccount } from './connection-limits';
import { normalizeUsername, type JwtLoginVerifier } from './jwt-login';
import type { LoginAttempts } from './login-attempts';
import { decodePlain, type PlainCredentials, type PlainDecodeFailure } from './sasl-plain';
import { NS_SASL } from './xmpp-namespaces';

/** Failed attempts allowed on one stream before it is closed (RFC 6120 §6.4.5: 2 to 5). */
export const MAX_SASL_ATTEMPTS = 3;

export interface SaslLoginDeps {
  readonly verifier: JwtLoginVerifier;
  readonly authThrottle: FailedAuthThrottle;
  readonly accountThrottle: FailedLoginsPerAccount;
  readonly attempts: LoginAttempts;
  readonly metrics: C2sMetrics;
  readonly logger: LoggerService;
}

export interface SaslContext {
  /** The stream's domain: the account logging in belongs to it. */
  readonly domain: string;
  /** PLAIN is offered on this stream now (TLS is on, or a loopback client and allowPlaintext). */
  readonly plainOffered: boolean;
  /** TLS would make PLAIN available (`encryption-required` instead of `invalid-mechanism`). */
  readonly tlsFirst: boolean;
  readonly jwt: JwtDocument;
  readonly ip: string;
  /** The stream ended meanwhile: write nothing more. */
  readonly ended: () => boolean;
}

export type SaslOutcome =
  /** A challenge or a failure was written; the client may try again. */
  | { readonly kind: 'pending' }
  /** <success/> was written: the stream restarts as this account. */
  | { readonly kind: 'success'; readonly user: Jid }
  /** A failure was written, and it was one too many: the stream must end. */
  | { readonly kind: 'exhausted' };

const PENDING: SaslOutcome = { kind: 'pending' };

export class SaslPlainLogin {
  private awaitingResponse = false;
  private failures = 0;

  constructor(
    private readonly deps: SaslLoginDeps,
    private readonly write: (xml: string) => void,
  ) {}

  /** An element of the SASL namespace: <auth/>, <response/> or <abort/>. */
  async handle(element: Element, context: SaslContext): Promise<SaslOutcome> {
    const awaiting = this.awaitingResponse;
    this.awaitingResponse = false;
    if (element.name === 'auth') {
      if (!context.plainOffered) {
        return this.failure(context.tlsFirst ? 'encryption-required' : 'invalid-mechanism');
      }
      if (element.attrs.mechanism !== 'PLAIN') return this.failure('invalid-mechanism');
      const text = element.getText().trim();
      if (text === '') {
        // No initial response: an empty challenge asks for it (RFC 6120 §6.4.2).
        this.awaitingResponse = true;
        this.write(`<challenge xmlns='${NS_SASL}'/>`);
        return PENDING;
      }
      return this.authenticate(text, context);
    }
    if (element.name === 'response' && awaiting) {
      return this.authenticate(element.getText().trim(), context);
    }
    if (element.name === 'abort') return this.failure('aborted');
    return this.failure('malformed-request');
  }

  /** Waits for a place among the attempts of this address and account, then checks. */
  private async authenticate(text: string, context: SaslContext): Promise<SaslOutcome> {
    const credentials = decodePlain(text);
    const user =
      typeof credentials === 'string' ? null : accountOf(credentials.authcid, context.domain);
    const leave = await this.deps.attempts.enter(throttleKey(context.ip), user && bareString(user));
    if (context.ended()) {
      leave?.();
      return PENDING;
    }
    if (!leave) {
      this.deps.metrics.logins.inc({ result: 'failed', reason: 'too-many-attempts' });
      this.deps.logger.log(
        { ip: context.ip, user: user ? jidToString(user) : undefined, reason: 'too-many-attempts' },
        'login refused unchecked',
      );
      return this.failure('temporary-auth-failure');
    }
    try {
      return await this.check(credentials, user, context);
    } finally {
      leave();
    }
  }

  private async check(
    credentials: PlainCredentials | PlainDecodeFailure,
    user: Jid | null,
    context: SaslContext,
  ): Promise<SaslOutcome> {
    if (typeof credentials === 'string') return this.refuse(credentials, credentials, context);
    if (!user) return this.refuse('not-authorized', 'bad-username', context);
    if (credentials.authzid !== '') {
      const authzid = parseJid(credentials.authzid);
      const same =
        authzid?.local === user.local && authzid.domain === user.domain && !authzid.resource;
      if (!same) return this.refuse('invalid-authzid', 'invalid-authzid', context, user);
    }
    const outcome = await this.deps.verifier.verify(credentials.password, user.local, context.jwt);
    if (context.ended()) return PENDING;
    if (!outcome.ok) return this.refuse('not-authorized', outcome.reason, context, user);
    this.deps.metrics.logins.inc({ result: 'ok' });
    if (outcome.previousKey) this.deps.metrics.previousKeyLogins.inc();
    this.write(`<success xmlns='${NS_SASL}'/>`);
    return { kind: 'success', user };
  }

  /**
   * A failed login: counted, logged (no token), answered after the longer of the IP address's
   * and (when the account is known) the account's delay.
   */
  private async refuse(
    condition: string,
    reason: string,
    context: SaslContext,
    user?: Jid,
  ): Promise<SaslOutcome> {
    this.deps.metrics.logins.inc({ result: 'failed', reason });
    this.deps.logger.log(
      { ip: context.ip, user: user ? jidToString(user) : undefined, reason },
      'login failed',
    );
    const byAddress = this.deps.authThrottle.failed(throttleKey(context.ip));
    const byAccount = user ? this.deps.accountThrottle.failed(bareString(user)) : 0;
    await sleep(Math.max(byAddress, byAccount));
    if (context.ended()) return PENDING;
    return this.failure(condition);
  }

  private failure(condition: string): SaslOutcome {
    this.write(`<failure xmlns='${NS_SASL}'><${condition}/></failure>`);
    if (condition === 'aborted') return PENDING;
    return ++this.failures >= MAX_SASL_ATTEMPTS ? { kind: 'exhausted' } : PENDING;
  }
}

/** The account logging in: authcid is a localpart, or a bare JID of the stream's domain. */
export function accountOf(authcid: string, domain: string): Jid | null {
  const name = authcid.normalize('NFC');
  const parsed = parseJid(name.includes('@') ? name : `${name}@${domain}`);
  if (!parsed || parsed.domain !== domain || parsed.resource !== '' || parsed.local === '') {
    return null;
  }
  return jid(normalizeUsername(parsed.local), domain);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
