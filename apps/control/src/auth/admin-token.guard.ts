import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { ControlEnv } from '../env/control-env';
import { CONTROL_ENV } from '../env/env.module';
import type { AdminIdentity } from './admin-identity';
import { IS_PUBLIC } from './public.decorator';
import { TokenMatcher } from './token-matcher';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Every /v1 route needs a named bearer token; writes need one that is not read-only. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly matcher: TokenMatcher;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONTROL_ENV) env: ControlEnv,
  ) {
    this.matcher = new TokenMatcher(env.adminTokens);
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;

    const request = context.switchToHttp().getRequest<Request & { admin?: AdminIdentity }>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.header('authorization') ?? '');
    const identity = match ? this.matcher.match(match[1]!) : null;
    if (!identity) throw new UnauthorizedException('a valid bearer token is required');
    if (identity.readOnly && !READ_METHODS.has(request.method)) {
      throw new ForbiddenException(`token "${identity.name}" is read-only`);
    }
    request.admin = identity;
    return true;
  }
}
