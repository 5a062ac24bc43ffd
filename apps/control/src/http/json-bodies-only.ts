import type { NextFunction, Request, Response } from 'express';

/**
 * Runs after the JSON body parser. A body in another media type is never parsed, and a JSON
 * `null` is taken by Nest's ValidationPipe as an empty object; either would reach a PUT as
 * `{}` and replace a resource (bounce policy, host type, datacenter) with its defaults
 * although the client sent something else. Both are refused instead.
 */
export function jsonBodiesOnly(request: Request, response: Response, next: NextFunction): void {
  const hasBody =
    request.headers['transfer-encoding'] !== undefined ||
    (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');
  if (hasBody && !request.is('application/json')) {
    response.status(415).json({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'request body must be JSON (Content-Type: application/json)',
    });
    return;
  }
  if (hasBody && request.body === null) {
    response.status(400).json({
      statusCode: 400,
      error: 'Bad Request',
      message: 'request body must be a JSON object, not null',
    });
    return;
  }
  next();
}
