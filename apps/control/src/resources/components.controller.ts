import { Body, Controller, Delete, Get, Param, Put, Res } from '@nestjs/common';
import { ApiJsonBody, ApiMutation } from '../http/api-examples';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ComponentBody, redactConfig, type ComponentConfig } from '#config';
import type { Response } from 'express';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToDelete, respondToMutation } from '../http/respond';
import { RevisionService } from '../revisions/revision.service';
import type { MutationOutcome } from '../revisions/revision.views';
import { domainParam, plain, removeBy, requireDocument, upsertBy } from './named-resource';

/** XEP-0114 components. Secrets are write-only: GETs show them redacted. */
@ApiTags('components')
@ApiBearerAuth()
@Controller('v1/components')
export class ComponentsController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  async list(@Res({ passthrough: true }) response: Response): Promise<ComponentConfig[]> {
    const current = await this.revisions.current();
    response.setHeader('ETag', etagOf(current.number));
    return redactConfig(current.snapshot).components;
  }

  @Put(':domain')
  @ApiMutation()
  @ApiJsonBody('XEP-0114 component (the secret is write-only)', {
    secret: 'a-long-shared-secret',
    hidden: false,
    balancing: 'random',
  })
  async put(
    @Param('domain') raw: string,
    @Body() body: ComponentBody,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    const domain = domainParam(raw, 'component domain');
    let created = false;
    const outcome = await this.revisions.mutate(options, (current) => {
      const next = requireDocument(current);
      created = upsertBy(next.components, (c) => c.domain === domain, { domain, ...plain(body) });
      return next;
    });
    return respondToMutation(response, outcome, created);
  }

  @Delete(':domain')
  async remove(
    @Param('domain') raw: string,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome | void> {
    const domain = domainParam(raw, 'component domain');
    const outcome = await this.revisions.mutate(options, (current) => {
      const next = requireDocument(current);
      next.components = removeBy(
        next.components,
        (c) => c.domain === domain,
        `component ${domain} does not exist`,
      );
      return next;
    });
    return respondToDelete(response, outcome);
  }
}
