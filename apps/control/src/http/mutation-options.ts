import { BadRequestException, createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AdminIdentity } from '../auth/admin-identity';

/** What every mutating route accepts besides its body (ARCHITECTURE §3). */
export interface MutationOptions {
  readonly author: string;
  readonly comment: string | null;
  readonly dryRun: boolean;
  /** Revision named by `If-Match` (`*` and absent mean: no precondition). */
  readonly ifMatch: number | null;
}

const MAX_COMMENT = 1000;

export function parseMutationOptions(request: Request): MutationOptions {
  const identity = (request as Request & { admin?: AdminIdentity }).admin;
  const query = request.query;
  const comment = typeof query.comment === 'string' ? query.comment.trim() : null;
  if (comment !== null && comment.length > MAX_COMMENT) {
    throw new BadRequestException(`comment must be at most ${MAX_COMMENT} characters`);
  }
  const dryRunRaw = query.dryRun;
  if (dryRunRaw !== undefined && dryRunRaw !== 'true' && dryRunRaw !== 'false') {
    throw new BadRequestException('dryRun must be true or false');
  }
  return {
    author: identity?.name ?? 'anonymous',
    comment: comment || null,
    dryRun: dryRunRaw === 'true',
    ifMatch: parseIfMatch(request.header('if-match')),
  };
}

/** Accepts `"12"`, `W/"12"`, `12` and `*`. */
export function parseIfMatch(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '*') return null;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(raw);
  if (!match) throw new BadRequestException(`If-Match must be a revision ETag such as "12"`);
  return Number(match[1]);
}

export const etagOf = (revision: number) => `"${revision}"`;

export const Mutation = createParamDecorator(
  (_: unknown, context: ExecutionContext): MutationOptions =>
    parseMutationOptions(context.switchToHttp().getRequest<Request>()),
);
