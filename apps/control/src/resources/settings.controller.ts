import { Body, Controller, Get, Put, Res } from '@nestjs/common';
import { ApiJsonBody, ApiMutation } from '../http/api-examples';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { redactConfig, settingsOf, SETTINGS_KEYS, type SettingsDocument } from '#config';
import type { Response } from 'express';
import { InvalidInputException } from '../http/api-errors';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToMutation } from '../http/respond';
import { RevisionService } from '../revisions/revision.service';
import type { MutationOutcome } from '../revisions/revision.views';

/**
 * The scalar and policy sections of the configuration. PUT replaces all of them: a section
 * left out goes back to its defaults. The body is validated as part of the whole document
 * (its paths are the same), so a redacted JWT secret sent back keeps the stored one.
 */
@ApiTags('settings')
@ApiBearerAuth()
@Controller('v1/settings')
export class SettingsController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  @ApiOperation({ summary: 'globalHost, messageTtl, connections, cache, redis, auth, limits' })
  async get(@Res({ passthrough: true }) response: Response): Promise<SettingsDocument> {
    const current = await this.revisions.current();
    response.setHeader('ETag', etagOf(current.number));
    return settingsOf(redactConfig(current.snapshot));
  }

  @Put()
  @ApiMutation()
  @ApiJsonBody('globalHost, messageTtl, connections, cache, redis, auth, limits', {
    globalHost: 'example.com',
    messageTtl: 4,
    cache: { cacheMissed: true, domainLifetimeS: 600, jidLifetimeS: 5, maxJids: 10000 },
    redis: { expireAfterS: 120, refreshAfterS: 60 },
  })
  @ApiOperation({ summary: 'Replace the settings; creates the first revision when none exists' })
  async put(
    @Body() body: unknown,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    const settings = requireObject(body, SETTINGS_KEYS);
    const outcome = await this.revisions.mutate(
      options,
      (current) => {
        const next: Record<string, unknown> = { ...(current ?? {}) };
        for (const key of SETTINGS_KEYS) delete next[key];
        return { ...next, ...settings };
      },
      { mayCreateFirst: true },
    );
    return respondToMutation(response, outcome);
  }
}

/** A JSON object whose keys are all in `allowed` (every unknown key reported). */
export function requireObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputException([{ path: '', message: 'body must be a JSON object' }]);
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InvalidInputException(
      unknown.map((key) => ({ path: key, message: 'unknown field' })),
    );
  }
  return body as Record<string, unknown>;
}
