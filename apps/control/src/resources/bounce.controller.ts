import { Body, Controller, Get, Put, Res } from '@nestjs/common';
import { ApiJsonBody, ApiMutation } from '../http/api-examples';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { BounceConfig } from '#config';
import type { Response } from 'express';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToMutation } from '../http/respond';
import { RevisionService } from '../revisions/revision.service';
import type { MutationOutcome } from '../revisions/revision.views';
import { plain, requireDocument } from './named-resource';

@ApiTags('bounce')
@ApiBearerAuth()
@Controller('v1/bounce')
export class BounceController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  async get(@Res({ passthrough: true }) response: Response): Promise<BounceConfig> {
    const current = await this.revisions.current();
    response.setHeader('ETag', etagOf(current.number));
    return current.snapshot.bounce;
  }

  @Put()
  @ApiMutation()
  @ApiJsonBody('Bounce policy', {
    enabled: true,
    resendAfterMs: 200,
    maxRetries: 4,
    maxQueued: 10000,
  })
  async put(
    @Body() body: BounceConfig,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    const outcome = await this.revisions.mutate(options, (current) => ({
      ...requireDocument(current),
      bounce: plain(body),
    }));
    return respondToMutation(response, outcome);
  }
}
