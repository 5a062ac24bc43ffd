import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HOSTS_KEY,
  nodeEndpointsKey,
  nodeHeartbeatKey,
  nodesKey,
  ROUTER_STATUS_PATTERN,
  type RouterStatusRecord,
} from '#redis-keys';
import type { RolloutView, RouterView, TopologyView } from '#control-api';
import type { ControlEnv } from '../env/control-env';
import { CONTROL_ENV } from '../env/env.module';
import { RedisTargets } from '../redis/redis-targets';
import { RevisionService } from '../revisions/revision.service';

export type { RolloutView, RouterView, TopologyView } from '#control-api';

const SCAN_COUNT = 500;

/** Reads what routers report about themselves in Redis: rollout status and topology. */
@Injectable()
export class StatusService {
  constructor(
    private readonly redis: RedisTargets,
    private readonly revisions: RevisionService,
    @Inject(CONTROL_ENV) private readonly env: ControlEnv,
  ) {}

  async rollout(now = Date.now()): Promise<RolloutView> {
    const latest = await this.revisions.latest();
    const records = await this.readRouterRecords();
    const routers = records
      .map((r): RouterView => {
        const stale = now - Date.parse(r.heartbeatAt) > this.env.routerStaleAfterS * 1000;
        return {
          node: r.node,
          localHost: r.localHost,
          revision: r.revision,
          domainSeq: r.domainSeq,
          status: r.status,
          rejectedRevision: r.rejectedRevision ?? null,
          error: r.error ?? null,
          errors: r.errors ?? [],
          startedAt: r.startedAt,
          heartbeatAt: r.heartbeatAt,
          stale,
          synced: !stale && r.status === 'ack' && r.revision === (latest?.number ?? 0),
          sessions: r.sessions ?? null,
        };
      })
      .sort((a, b) => a.localHost.localeCompare(b.localHost) || a.node.localeCompare(b.node));
    const counts = new Map<number, number>();
    for (const router of routers) {
      if (!router.stale) counts.set(router.revision, (counts.get(router.revision) ?? 0) + 1);
    }
    return {
      latestRevision: latest?.number ?? 0,
      routers,
      revisions: [...counts]
        .sort(([a], [b]) => b - a)
        .map(([revision, count]) => ({ revision, routers: count })),
    };
  }

  async topology(): Promise<TopologyView> {
    const latest = await this.revisions.latest();
    const configured = latest?.snapshot.datacenters ?? [];
    const client = this.redis.primary.client;
    return this.guard(async () => {
      const hosts = new Set<string>([
        ...configured.map((dc) => dc.localHost),
        ...(await client.smembers(HOSTS_KEY)),
      ]);
      const records = await this.readRouterRecords();
      const datacenters = [];
      for (const localHost of [...hosts].sort()) {
        const nodes = (await client.smembers(nodesKey(localHost))).sort();
        const pipeline = client.pipeline();
        for (const node of nodes) {
          pipeline.exists(nodeHeartbeatKey(localHost, node));
          pipeline.smembers(nodeEndpointsKey(localHost, node));
        }
        const results = (await pipeline.exec()) ?? [];
        const dc = configured.find((c) => c.localHost === localHost);
        datacenters.push({
          localHost,
          region: dc?.region ?? null,
          inConfig: dc !== undefined,
          nodes: nodes.map((node, i) => ({
            node,
            alive: results[2 * i]?.[1] === 1,
            endpoints: ((results[2 * i + 1]?.[1] as string[] | undefined) ?? []).sort(),
            sessions:
              records.find((r) => r.localHost === localHost && r.node === node)?.sessions ?? null,
          })),
        });
      }
      return { datacenters };
    });
  }

  private readRouterRecords(): Promise<RouterStatusRecord[]> {
    const client = this.redis.primary.client;
    return this.guard(async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(
          cursor,
          'MATCH',
          ROUTER_STATUS_PATTERN,
          'COUNT',
          SCAN_COUNT,
        );
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      if (keys.length === 0) return [];
      const values = await client.mget(...keys);
      return values.flatMap((value) => {
        if (!value) return [];
        try {
          return [JSON.parse(value) as RouterStatusRecord];
        } catch {
          return [];
        }
      });
    });
  }

  private async guard<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw new ServiceUnavailableException(
        `redis is unavailable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
