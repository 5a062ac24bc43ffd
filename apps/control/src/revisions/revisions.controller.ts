import {
  BadRequestException,
  Controller,
  Get,
  Param,
  ParseIntPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { redactConfig, type ConfigChange, type MeridianConfigDocument } from '#config';
import type { Response } from 'express';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToMutation } from '../http/respond';
import { RevisionService } from './revision.service';
import { summarize, type MutationOutcome, type RevisionSummary } from './revision.views';

const revisionNumber = new ParseIntPipe({
  exceptionFactory: () => new BadRequestException('revision must be a positive integer'),
});

@ApiTags('revisions')
@ApiBearerAuth()
@Controller('v1/revisions')
export class RevisionsController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  @ApiOperation({ summary: 'Revisions, newest first; page with ?before=<n>&limit=<1..500>' })
  async list(
    @Query('limit') limitRaw?: string,
    @Query('before') beforeRaw?: string,
  ): Promise<{ revisions: RevisionSummary[] }> {
    const limit = positiveInt(limitRaw, 50, 500, 'limit');
    const before =
      beforeRaw === undefined ? undefined : positiveInt(beforeRaw, 0, 2 ** 31 - 1, 'before');
    return { revisions: await this.revisions.list(limit, before) };
  }

  @Get(':n')
  async get(
    @Param('n', revisionNumber) n: number,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RevisionSummary & { config: MeridianConfigDocument }> {
    const revision = await this.revisions.get(n);
    response.setHeader('ETag', etagOf(revision.number));
    return { ...summarize(revision), config: redactConfig(revision.snapshot) };
  }

  @Get(':n/diff')
  @ApiOperation({ summary: 'What revision n changed relative to revision n-1' })
  diff(
    @Param('n', revisionNumber) n: number,
  ): Promise<{ from: number | null; to: number; changes: ConfigChange[] }> {
    return this.revisions.diff(n);
  }

  @Post(':n/rollback')
  @ApiOperation({ summary: 'Create a new revision equal to revision n' })
  async rollback(
    @Param('n', revisionNumber) n: number,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    return respondToMutation(response, await this.revisions.rollback(n, options), true);
  }
}

function positiveInt(raw: string | undefined, fallback: number, max: number, name: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new BadRequestException(`${name} must be an integer between 1 and ${max}`);
  }
  return value;
}
