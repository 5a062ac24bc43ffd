import { Body, Controller, Get, Put, Res } from '@nestjs/common';
import { ApiJsonBody, ApiMutation, EXAMPLE_CONFIG } from '../http/api-examples';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { redactConfig, type MeridianConfigDocument } from '#config';
import type { Response } from 'express';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToMutation } from '../http/respond';
import { RevisionService } from '../revisions/revision.service';
import type { MutationOutcome } from '../revisions/revision.views';

@ApiTags('config')
@ApiBearerAuth()
@Controller('v1/config')
export class ConfigController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  @ApiOperation({ summary: 'The whole current configuration (secrets redacted)' })
  async get(@Res({ passthrough: true }) response: Response): Promise<MeridianConfigDocument> {
    const current = await this.revisions.current();
    response.setHeader('ETag', etagOf(current.number));
    return redactConfig(current.snapshot);
  }

  @Put()
  @ApiMutation()
  @ApiJsonBody('The whole configuration; see docs/configuration.md', EXAMPLE_CONFIG)
  @ApiOperation({
    summary:
      'Replace the whole configuration (declarative apply); redacted secrets keep their stored value',
  })
  async put(
    @Body() document: unknown,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    const outcome = await this.revisions.mutate(options, () => document, { mayCreateFirst: true });
    return respondToMutation(response, outcome);
  }
}
