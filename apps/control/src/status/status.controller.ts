import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StatusService, type RolloutView, type TopologyView } from './status.service';

@ApiTags('status')
@ApiBearerAuth()
@Controller('v1')
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get('routers')
  @ApiOperation({ summary: 'Every router seen: revision applied, ack/nack, heartbeat, stale' })
  routers(): Promise<RolloutView> {
    return this.status.rollout();
  }

  @Get('topology')
  @ApiOperation({ summary: 'Datacenters, their live nodes and endpoints (from Redis)' })
  topology(): Promise<TopologyView> {
    return this.status.topology();
  }
}
