// `meridianctl get <resource> [name]`: any read of control's API, printed as YAML for people
// (or -o json). `get config` prints an apply-ready file: the document and its baseRevision.
import type { CommandContext } from '../cli-context';
import { BASE_REVISION_KEY } from '../declarative-file';
import { usageError } from '../exit-codes';
import { readableConfig, toYaml } from '../output';

interface Resource {
  readonly path: string;
  /** Whether `get <resource> <name>` reads one item (`<path>/<name>`). */
  readonly named: boolean;
  readonly query?: (ctx: CommandContext) => Record<string, string | undefined>;
}

const RESOURCES: Record<string, Resource> = {
  config: { path: 'v1/config', named: false },
  settings: { path: 'v1/settings', named: false },
  bounce: { path: 'v1/bounce', named: false },
  datacenters: { path: 'v1/datacenters', named: true },
  'endpoint-overrides': { path: 'v1/endpoint-overrides', named: false },
  'host-types': { path: 'v1/host-types', named: false },
  components: { path: 'v1/components', named: false },
  domains: {
    path: 'v1/domains',
    named: true,
    query: (ctx) => ({
      hostType: ctx.string('host-type'),
      enabled: ctx.string('enabled'),
      after: ctx.string('after'),
      limit: ctx.string('limit'),
    }),
  },
  revisions: {
    path: 'v1/revisions',
    named: true,
    query: (ctx) => ({ limit: ctx.string('limit'), before: ctx.string('before') }),
  },
  routers: { path: 'v1/routers', named: false },
  topology: { path: 'v1/topology', named: false },
};

const ALIASES: Record<string, string> = {
  datacenter: 'datacenters',
  dc: 'datacenters',
  'endpoint-override': 'endpoint-overrides',
  'host-type': 'host-types',
  component: 'components',
  domain: 'domains',
  revision: 'revisions',
  router: 'routers',
};

export const RESOURCE_NAMES = Object.keys(RESOURCES);

export async function getCommand(ctx: CommandContext): Promise<number> {
  const asked = ctx.arg(0, `resource (one of: ${RESOURCE_NAMES.join(', ')})`);
  const name = ALIASES[asked] ?? asked;
  const resource = RESOURCES[name];
  if (!resource) {
    throw usageError(`unknown resource "${asked}" (one of: ${RESOURCE_NAMES.join(', ')})`);
  }
  const item = ctx.args[1];
  if (item !== undefined && !resource.named) throw usageError(`get ${name} takes no name`);
  ctx.noMoreArgs(resource.named ? 2 : 1);
  const path = item === undefined ? resource.path : `${resource.path}/${encodeURIComponent(item)}`;
  const answer = await ctx.client.get<unknown>(path, {
    query: item === undefined ? resource.query?.(ctx) : undefined,
  });
  if (name === 'config') {
    const file = { [BASE_REVISION_KEY]: answer.etag, ...(readableConfig(answer.body) as object) };
    ctx.print(file, () =>
      [
        `# Meridian configuration at revision ${answer.etag} (meridianctl get config).`,
        '# Secrets show as **redacted**: left so, they keep their stored value.',
        '# Edit, then: meridianctl diff -f <file>; meridianctl apply -f <file>',
        toYaml(file),
      ].join('\n'),
    );
  } else {
    ctx.print(answer.body, () => toYaml(answer.body));
  }
  return 0;
}
