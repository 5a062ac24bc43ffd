import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { throttleKey } from '#common';
import type { ControlEnv } from '../env/control-env';
import { CONTROL_ENV } from '../env/env.module';
import type { AdminIdentity } from './admin-identity';
import { FAILED_AUTH_MAX_ADDRESSES, FailedAuthThrottle } from './failed-auth-throttle';
import { IS_PUBLIC } from './public.decorator';
import { TokenMatcher } from './token-matcher';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every /v1 route needs a named bearer token; writes need one that is not read-only.
 *
 * Failed tokens are counted per client address, an IPv6 one by its /64 (`AUTH_FAILURE_LIMIT`
 * per `AUTH_FAILURE_WINDOW_S`, loopback included). A locked address gets 429 for every request,
 * a right token included: were a right token let through, a guesser would still learn which
 * guess is right at full speed. Until the lock, a right token is accepted at once and clears
 * nothing, so a holder of one token cannot reset the count while guessing another.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly logger = new Logger('auth');
  private readonly matcher: TokenMatcher;
  private readonly throttle: FailedAuthThrottle;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONTROL_ENV) private readonly env: ControlEnv,
  ) {
    this.matcher = new TokenMatcher(env.adminTokens);
    this.throttle = new FailedAuthThrottle({
      limit: env.authFailureLimit,
      windowMs: env.authFailureWindowS * 1000,
      maxAddresses: FAILED_AUTH_MAX_ADDRESSES,
    });
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;

    const request = context.switchToHttp().getRequest<Request & { admin?: AdminIdentity }>();
    const address = clientKey(request);
    const lockedMs = this.throttle.lockedFor(address);
    if (lockedMs > 0) {
      const retryAfterS = Math.ceil(lockedMs / 1000);
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(retryAfterS));
      throw new TooManyFailedTokensException(retryAfterS);
    }

    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.header('authorization') ?? '');
    const identity = match ? this.matcher.match(match[1]!) : null;
    if (!identity) {
      if (this.throttle.failed(address)) {
        // Once per lock, not per refused request: a guesser must not flood the log.
        this.logger.warn(
          `${address} locked out for up to ${this.env.authFailureWindowS} s after ` +
            `${this.env.authFailureLimit} failed bearer tokens`,
        );
      }
      throw new UnauthorizedException('a valid bearer token is required');
    }
    if (identity.readOnly && !READ_METHODS.has(request.method)) {
      throw new ForbiddenException(`token "${identity.name}" is read-only`);
    }
    request.admin = identity;
    return true;
  }
}

/** 429 in the service's error shape; the guard sets `Retry-After` beside it. */
class TooManyFailedTokensException extends HttpException {
  constructor(retryAfterS: number) {
    super(
      {
        error: 'Too Many Requests',
        message: `too many failed bearer tokens from this address; retry in ${retryAfterS} s`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/**
 * The TCP peer's address as failures are counted (throttleKey): an IPv4-mapped IPv6 address
 * as IPv4, another IPv6 address by its /64, since its holder has all of it. `X-Forwarded-For`
 * is not read: anyone could send one to be counted under another client's address.
 */
function clientKey(request: Request): string {
  return throttleKey(request.socket.remoteAddress ?? '');
}
