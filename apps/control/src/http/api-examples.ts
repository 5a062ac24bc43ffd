// Request-body examples for the OpenAPI page. The bodies are validated by libs/config (the
// one definition of every option); these only show an operator what a body looks like.
import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';

export const ApiJsonBody = (description: string, example: unknown) =>
  applyDecorators(ApiBody({ description, schema: { type: 'object', example } }));

/** The query parameters every configuration mutation takes. */
export const ApiMutation = () =>
  applyDecorators(
    ApiQuery({ name: 'comment', required: false, description: 'stored with the revision' }),
    ApiQuery({
      name: 'dryRun',
      required: false,
      enum: ['true', 'false'],
      description: 'validate and return the would-be revision and diff; store nothing',
    }),
  );

export const EXAMPLE_CONFIG = {
  globalHost: 'example.com',
  datacenters: [
    { localHost: 'dc1.example.com', region: 'eu-west' },
    { localHost: 'dc2.example.com', region: 'us-east' },
  ],
  messageTtl: 4,
  bounce: { enabled: true, resendAfterMs: 200, maxRetries: 4, maxQueued: 10000 },
  auth: { jwt: { algorithm: 'HS256', secret: '**redacted**', usernameClaim: 'sub' } },
  components: [{ domain: 'muc.example.com', secret: '**redacted**', hidden: false }],
};
