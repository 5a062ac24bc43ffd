import { Body, Controller, Delete, Get, Param, Put, Res } from '@nestjs/common';
import { ApiJsonBody, ApiMutation } from '../http/api-examples';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { HostTypeBody, type HostTypeConfig } from '#config';
import type { Response } from 'express';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToDelete, respondToMutation } from '../http/respond';
import { RevisionService } from '../revisions/revision.service';
import type { MutationOutcome } from '../revisions/revision.views';
import { plain, removeBy, requireDocument, upsertBy } from './named-resource';

/** Named policy profiles for dynamic domains. One still used by a domain cannot be deleted (409). */
@ApiTags('host-types')
@ApiBearerAuth()
@Controller('v1/host-types')
export class HostTypesController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  async list(@Res({ passthrough: true }) response: Response): Promise<HostTypeConfig[]> {
    const current = await this.revisions.current();
    response.setHeader('ETag', etagOf(current.number));
    return current.snapshot.hostTypes;
  }

  @Put(':name')
  @ApiMutation()
  @ApiJsonBody('Policy overrides for the domains of this host type', {
    messageTtl: 2,
    isolated: true,
  })
  async put(
    @Param('name') name: string,
    @Body() body: HostTypeBody,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    let created = false;
    const outcome = await this.revisions.mutate(options, (current) => {
      const next = requireDocument(current);
      created = upsertBy(next.hostTypes, (h) => h.name === name, { name, ...plain(body) });
      return next;
    });
    return respondToMutation(response, outcome, created);
  }

  @Delete(':name')
  async remove(
    @Param('name') name: string,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome | void> {
    const outcome = await this.revisions.mutate(options, (current) => {
      const next = requireDocument(current);
      next.hostTypes = removeBy(
        next.hostTypes,
        (h) => h.name === name,
        `host type ${name} does not exist`,
      );
      return next;
    });
    return respondToDelete(response, outcome);
  }
}
