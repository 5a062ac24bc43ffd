// `meridianctl domains add|enable|disable|remove|list`: dynamic domains (MongooseIM 5's
// domain API). They are events, not revisions: no dry run, no If-Match.
import type { DomainPage, DomainView } from '#control-api';
import type { CommandContext } from '../cli-context';
import { ExitCode, usageError } from '../exit-codes';
import { table } from '../output';

const ACTIONS = ['add', 'enable', 'disable', 'remove', 'list'] as const;

export async function domainsCommand(ctx: CommandContext): Promise<number> {
  const action = ctx.arg(0, `action (one of: ${ACTIONS.join(', ')})`);
  if (action === 'list') {
    ctx.noMoreArgs(1);
    const page = await ctx.client.get<DomainPage>('v1/domains', {
      query: {
        hostType: ctx.string('host-type'),
        enabled: ctx.string('enabled'),
        after: ctx.string('after'),
        limit: ctx.string('limit'),
      },
    });
    ctx.print(
      page.body,
      () =>
        (page.body.domains.length === 0
          ? 'no domains\n'
          : table(
              ['DOMAIN', 'HOST TYPE', 'ENABLED'],
              page.body.domains.map((d) => [d.domain, d.hostType, d.enabled ? 'yes' : 'no']),
            )) + (page.body.next ? `more: --after ${page.body.next}\n` : ''),
    );
    return ExitCode.ok;
  }
  const domain = ctx.arg(1, 'domain name');
  ctx.noMoreArgs(2);
  const path = `v1/domains/${encodeURIComponent(domain)}`;
  switch (action) {
    case 'add': {
      const hostType = ctx.string('host-type') ?? 'default';
      const answer = await ctx.client.put<DomainView>(path, { body: { hostType } });
      ctx.print(
        answer.body,
        () => `domain ${answer.body.domain} added (host type ${answer.body.hostType})\n`,
      );
      return ExitCode.ok;
    }
    case 'enable':
    case 'disable': {
      const answer = await ctx.client.patch<DomainView>(path, {
        body: { enabled: action === 'enable' },
      });
      ctx.print(answer.body, () => `domain ${answer.body.domain} ${action}d\n`);
      return ExitCode.ok;
    }
    case 'remove':
      await ctx.client.delete(path);
      ctx.print({ domain, removed: true }, () => `domain ${domain} removed\n`);
      return ExitCode.ok;
    default:
      throw usageError(`unknown domains action "${action}" (one of: ${ACTIONS.join(', ')})`);
  }
}
