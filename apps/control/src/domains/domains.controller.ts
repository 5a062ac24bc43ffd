import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Put,
  Query,
} from '@nestjs/common';
import { ApiJsonBody } from '../http/api-examples';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Mutation, type MutationOptions } from '../http/mutation-options';
import { CreateDomainBody, PatchDomainBody } from './domain.bodies';
import { DomainsService, type DomainPage, type DomainView } from './domains.service';

const MAX_PAGE = 1000;

/** Domain changes are events, not revisions: a dry run or a revision precondition means nothing. */
function refuseRevisionOptions(options: MutationOptions): void {
  if (options.dryRun || options.ifMatch !== null) {
    throw new BadRequestException('dryRun and If-Match apply to revisions, not to dynamic domains');
  }
}

/**
 * Dynamic domains, shaped like MongooseIM 5's REST API. They are not part of revisions:
 * each change is an event in the domain stream that routers apply incrementally.
 */
@ApiTags('domains')
@ApiBearerAuth()
@Controller('v1/domains')
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  @Get()
  @ApiOperation({
    summary: 'Domains in name order; filter by hostType/enabled, page with after/limit',
  })
  list(
    @Query('hostType') hostType?: string,
    @Query('enabled') enabled?: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ): Promise<DomainPage> {
    if (enabled !== undefined && enabled !== 'true' && enabled !== 'false') {
      throw new BadRequestException('enabled must be true or false');
    }
    const size = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
      throw new BadRequestException(`limit must be an integer between 1 and ${MAX_PAGE}`);
    }
    return this.domains.list({
      hostType,
      enabled: enabled === undefined ? undefined : enabled === 'true',
      after,
      limit: size,
    });
  }

  @Get(':domain')
  get(@Param('domain') domain: string): Promise<DomainView> {
    return this.domains.get(domain);
  }

  @Put(':domain')
  @ApiJsonBody('The host type of the new domain', { hostType: 'default' })
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a domain (409 if it exists, 422 for an unknown host type)' })
  create(
    @Param('domain') domain: string,
    @Body() body: CreateDomainBody,
    @Mutation() options: MutationOptions,
  ): Promise<DomainView> {
    refuseRevisionOptions(options);
    return this.domains.create(domain, body.hostType, options.author);
  }

  @Patch(':domain')
  @ApiJsonBody('Enable or disable', { enabled: false })
  @ApiOperation({ summary: 'Enable or disable a domain' })
  patch(
    @Param('domain') domain: string,
    @Body() body: PatchDomainBody,
    @Mutation() options: MutationOptions,
  ): Promise<DomainView> {
    refuseRevisionOptions(options);
    return this.domains.setEnabled(domain, body.enabled, options.author);
  }

  @Delete(':domain')
  @HttpCode(204)
  async remove(
    @Param('domain') domain: string,
    @Mutation() options: MutationOptions,
  ): Promise<void> {
    refuseRevisionOptions(options);
    await this.domains.remove(domain, options.author);
  }
}
