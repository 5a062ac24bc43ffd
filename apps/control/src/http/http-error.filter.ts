import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';

const DB_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/** PostgreSQL unreachable or going away: the request may be retried once it is back. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (DB_UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) {
    return true;
  }
  if (
    typeof e.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Connection is not established/i.test(
      e.message,
    )
  ) {
    return true;
  }
  return (
    isDatabaseUnavailable(e.driverError, depth + 1) || isDatabaseUnavailable(e.cause, depth + 1)
  );
}

/**
 * Text PostgreSQL refuses to store: a NUL character (22021 in text, 22P05 in jsonb) or an
 * unpaired UTF-16 surrogate, which makes the JSON sent for a jsonb column invalid (22P02).
 * Such input is the client's fault wherever it sits (path, query, body), so it gets a 400.
 */
export function isUnstorableText(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (e.code === '22021' || e.code === '22P05') return true;
  if (e.code === '22P02' && typeof e.message === 'string' && /type json/.test(e.message)) {
    return true;
  }
  return isUnstorableText(e.driverError, depth + 1) || isUnstorableText(e.cause, depth + 1);
}

/**
 * One error shape for every route: `{ statusCode, error, message, errors? }`. Body-parser
 * failures become 400/413, text the database cannot store 400, an unreachable database 503; anything else unexpected is logged
 * and answered 500 without internals.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.describe(exception);
    if (response.headersSent) return;
    response.status(status).json(body);
  }

  private describe(exception: unknown): [number, Record<string, unknown>] {
    // Express reports body-parser failures as HttpExceptions caused by the parser's error.
    const parserError = (exception instanceof HttpException ? exception.cause : exception) as
      { type?: unknown; limit?: unknown } | undefined;
    if (parserError?.type === 'entity.too.large') {
      return [
        HttpStatus.PAYLOAD_TOO_LARGE,
        {
          statusCode: 413,
          error: 'Payload Too Large',
          message: `request body is larger than ${String(parserError.limit)} bytes`,
        },
      ];
    }
    if (parserError?.type === 'entity.parse.failed' || exception instanceof SyntaxError) {
      return [
        HttpStatus.BAD_REQUEST,
        { statusCode: 400, error: 'Bad Request', message: 'request body is not valid JSON' },
      ];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      if (typeof payload === 'object' && payload !== null) {
        return [status, { statusCode: status, ...(payload as Record<string, unknown>) }];
      }
      return [status, { statusCode: status, error: statusText(status), message: payload }];
    }
    if (isUnstorableText(exception)) {
      return [
        HttpStatus.BAD_REQUEST,
        {
          statusCode: 400,
          error: 'Bad Request',
          message:
            'input contains text that cannot be stored (a NUL character or an unpaired surrogate)',
        },
      ];
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${(exception as Error).message}`);
      return [
        HttpStatus.SERVICE_UNAVAILABLE,
        {
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'the configuration database is unavailable; nothing was changed, retry later',
        },
      ];
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return [
      HttpStatus.INTERNAL_SERVER_ERROR,
      { statusCode: 500, error: 'Internal Server Error', message: 'internal error' },
    ];
  }
}

function statusText(status: number): string {
  return (HttpStatus as unknown as Record<number, string>)[status]?.replace(/_/g, ' ') ?? 'Error';
}
