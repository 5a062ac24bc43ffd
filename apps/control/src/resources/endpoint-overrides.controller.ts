import { Body, Controller, Delete, Get, NotFoundException, Param, Put, Res } from '@nestjs/common';
import { ApiJsonBody, ApiMutation } from '../http/api-examples';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { EndpointListBody, type MeridianConfigDocument } from '#config';
import type { Response } from 'express';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToDelete, respondToMutation } from '../http/respond';
import { RevisionService } from '../revisions/revision.service';
import type { MutationOutcome } from '../revisions/revision.views';
import { domainParam, plain, requireDocument } from './named-resource';

/** What other datacenters dial to reach a datacenter, instead of its endpoints in Redis. */
@ApiTags('endpoint-overrides')
@ApiBearerAuth()
@Controller('v1/endpoint-overrides')
export class EndpointOverridesController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  async list(
    @Res({ passthrough: true }) response: Response,
  ): Promise<MeridianConfigDocument['endpointOverrides']> {
    const current = await this.revisions.current();
    response.setHeader('ETag', etagOf(current.number));
    return current.snapshot.endpointOverrides;
  }

  @Put(':localHost')
  @ApiMutation()
  @ApiJsonBody('What other datacenters dial', { endpoints: [{ host: '203.0.113.10', port: 5555 }] })
  async put(
    @Param('localHost') raw: string,
    @Body() body: EndpointListBody,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    const localHost = domainParam(raw, 'localHost');
    let created = false;
    const outcome = await this.revisions.mutate(options, (current) => {
      const next = requireDocument(current);
      created = next.endpointOverrides[localHost] === undefined;
      next.endpointOverrides[localHost] = plain(body).endpoints;
      return next;
    });
    return respondToMutation(response, outcome, created);
  }

  @Delete(':localHost')
  async remove(
    @Param('localHost') raw: string,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome | void> {
    const localHost = domainParam(raw, 'localHost');
    const outcome = await this.revisions.mutate(options, (current) => {
      const next = requireDocument(current);
      if (next.endpointOverrides[localHost] === undefined) {
        throw new NotFoundException(`no endpoint override for ${localHost}`);
      }
      delete next.endpointOverrides[localHost];
      return next;
    });
    return respondToDelete(response, outcome);
  }
}
