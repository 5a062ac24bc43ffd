import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  NotFoundException,
  Param,
  Put,
  Res,
} from '@nestjs/common';
import { ApiJsonBody, ApiMutation } from '../http/api-examples';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DatacenterBody, type DatacenterConfig } from '#config';
import type { Response } from 'express';
import { etagOf, Mutation, type MutationOptions } from '../http/mutation-options';
import { respondToDelete, respondToMutation } from '../http/respond';
import { RevisionService } from '../revisions/revision.service';
import type { MutationOutcome } from '../revisions/revision.views';
import { domainParam, plain, removeBy, requireDocument, upsertBy } from './named-resource';

@ApiTags('datacenters')
@ApiBearerAuth()
@Controller('v1/datacenters')
export class DatacentersController {
  constructor(private readonly revisions: RevisionService) {}

  @Get()
  async list(@Res({ passthrough: true }) response: Response): Promise<DatacenterConfig[]> {
    const current = await this.revisions.current();
    response.setHeader('ETag', etagOf(current.number));
    return current.snapshot.datacenters;
  }

  @Get(':localHost')
  async get(
    @Param('localHost') raw: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<DatacenterConfig> {
    const localHost = domainParam(raw, 'localHost');
    const current = await this.revisions.current();
    const datacenter = current.snapshot.datacenters.find((dc) => dc.localHost === localHost);
    if (!datacenter) throw new NotFoundException(`datacenter ${localHost} does not exist`);
    response.setHeader('ETag', etagOf(current.number));
    return datacenter;
  }

  @Put(':localHost')
  @ApiMutation()
  @ApiJsonBody('Optional region and labels', { region: 'eu-west', labels: { tier: 'gold' } })
  async put(
    @Param('localHost') raw: string,
    @Body() body: DatacenterBody,
    @Mutation() options: MutationOptions,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MutationOutcome> {
    const localHost = domainParam(raw, 'localHost');
    let created = false;
    const outcome = await this.revisions.mutate(options, (current) => {
      const next = requireDocument(current);
      created = upsertBy(next.datacenters, (dc) => dc.localHost === localHost, {
        localHost,
        ...plain(body),
      });
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
      next.datacenters = removeBy(
        next.datacenters,
        (dc) => dc.localHost === localHost,
        `datacenter ${localHost} does not exist`,
      );
      if (next.endpointOverrides[localHost]) {
        throw new ConflictException(
          `datacenter ${localHost} has endpoint overrides; delete /v1/endpoint-overrides/${localHost} first`,
        );
      }
      return next;
    });
    return respondToDelete(response, outcome);
  }
}
