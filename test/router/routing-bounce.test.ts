// Bounce (ARCHITECTURE §6.5): stanzas for an unknown recipient wait, retry with backoff, are
// delivered when a route appears, and end as an error to the sender when retries run out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterConfig as RouterConfigRef } from '../../apps/router/src/config-sync/router-config';
import { GdMetrics } from '../../apps/router/src/metrics/gd-metrics';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { pushDomainEvents, upsert } from './config-sync-support';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ [DC1]: ['n1', 'n2'], [DC2]: ['n1'] });
});
afterAll(async () => {
  await cluster?.close();
});

const condition = (stanza: {
  getChild(n: string): { getChildElements(): { name: string }[] } | undefined;
}) => stanza.getChild('error')?.getChildElements()[0]?.name;

describe('bounce', () => {
  it('answers service-unavailable from the recipient once retries run out', async () => {
    const alice = await cluster.node(DC1, 'n1').login('alice@example.com/a');
    const started = Date.now();
    await cluster.node(DC1, 'n1').send(alice, 'ghost@example.com/x', 'anyone?', { id: 'm1' });
    const [error] = await alice.waitFor(1, 5000);
    const elapsed = Date.now() - started;
    expect(error!.attrs).toMatchObject({
      type: 'error',
      from: 'ghost@example.com/x',
      to: 'alice@example.com/a',
      id: 'm1',
    });
    expect(error!.getChild('error')!.attrs.type).toBe('cancel');
    expect(condition(error!)).toBe('service-unavailable');
    // 50 + 100 + 200 + 400 ms of retries, then the error.
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(3000);
    expect(
      await cluster
        .node(DC1, 'n1')
        .metric('meridian_gd_bounce_failures_total', { reason: 'exhausted' }),
    ).toBe(1);
  });

  it('delivers waiting stanzas in order to a recipient who logs in meanwhile, on another datacenter', async () => {
    const sender = await cluster.node(DC1, 'n1').login('sender@example.com/s');
    for (const body of ['one', 'two', 'three'])
      await cluster.node(DC1, 'n1').send(sender, 'late@example.com/r', body);
    expect(cluster.node(DC1, 'n1').router.bounced).toBe(3);
    const late = await cluster.node(DC2).login('late@example.com/r');
    await late.waitFor(3, 3000);
    expect(late.bodies()).toEqual(['one', 'two', 'three']);
    expect(sender.errors()).toEqual([]);
    await until(() => cluster.node(DC1, 'n1').router.bounced === 0);
  });

  it('follows a recipient who moves to another datacenter while stanzas are in flight', async () => {
    const from = await cluster.node(DC2).login('mover-peer@example.com/p');
    const mover = await cluster.node(DC1, 'n2').login('mover@example.com/m');
    await cluster.node(DC2).send(from, 'mover@example.com/m', 'before');
    await mover.waitFor(1);
    await cluster.node(DC1, 'n2').logout(mover);
    const sends = [1, 2, 3, 4, 5].map((i) =>
      cluster.node(DC2).send(from, 'mover@example.com/m', `during ${i}`),
    );
    const moved = await cluster.node(DC2).login('mover@example.com/m');
    await Promise.all(sends);
    await moved.waitFor(5, 3000);
    expect(moved.bodies()).toEqual(['during 1', 'during 2', 'during 3', 'during 4', 'during 5']);
    expect(from.errors()).toEqual([]);
  });

  it('answers at once when bounce is disabled', async () => {
    const revision = await cluster.publish((doc) => {
      doc.bounce = { ...doc.bounce, enabled: false };
    });
    await until(
      () => cluster.nodes.every((n) => n.app.get(RouterConfigRef).snapshot.revision === revision),
      5000,
      'revision applied',
    );
    const alice = await cluster.node(DC1, 'n2').login('quick@example.com/q');
    const started = Date.now();
    await cluster.node(DC1, 'n2').send(alice, 'nobody@example.com/x', 'hello?');
    await alice.waitFor(1, 2000);
    expect(Date.now() - started).toBeLessThan(300);
    expect(condition(alice.received[0]!)).toBe('service-unavailable');
    await cluster.publish((doc) => {
      doc.bounce = { ...doc.bounce, enabled: true };
    });
  });

  it('applies the sender host type bounce override', async () => {
    const revision = await cluster.publish((doc) => {
      doc.bounce = { ...doc.bounce, enabled: true, resendAfterMs: 150, maxRetries: 2 };
      doc.hostTypes = [
        { name: 'default', isolated: false },
        {
          name: 'strict',
          isolated: false,
          bounce: { enabled: false, resendAfterMs: 200, maxRetries: 4, maxQueued: 10000 },
        },
      ];
    });
    await pushDomainEvents(cluster.redis.client, [upsert(1, 'strict.example.net', true, 'strict')]);
    await until(
      () =>
        cluster.nodes.every(
          (n) =>
            n.app.get(RouterConfigRef).snapshot.revision === revision &&
            n.app.get(RouterConfigRef).isServedDomain('strict.example.net'),
        ),
      5000,
      'revision and domain applied',
    );
    const strict = await cluster.node(DC1, 'n1').login('user@strict.example.net/s');
    const relaxed = await cluster.node(DC1, 'n1').login('user@example.com/r');
    const started = Date.now();
    await cluster.node(DC1, 'n1').send(strict, 'nobody@example.com/x', 'strict');
    await strict.waitFor(1, 2000);
    expect(Date.now() - started).toBeLessThan(300);
    await cluster.node(DC1, 'n1').send(relaxed, 'nobody@example.com/x', 'relaxed');
    expect(cluster.node(DC1, 'n1').router.bounced).toBe(1);
    expect(relaxed.received).toEqual([]);
    // The global policy answers it after its retries (150 + 300 ms).
    await relaxed.waitFor(1, 3000);
    expect(relaxed.received[0]!.attrs.type).toBe('error');
  });

  it('drops presences that cannot be delivered instead of answering them', async () => {
    const alice = await cluster.node(DC1, 'n1').login('presence@example.com/p');
    const { Element } = await import('ltx');
    await cluster
      .node(DC1, 'n1')
      .router.route(
        new Element('presence', { from: 'presence@example.com/p', to: 'ghost2@example.com/x' }),
      );
    await until(() => cluster.node(DC1, 'n1').router.bounced === 0, 5000);
    expect(alice.received).toEqual([]);
  });

  it('never queues a presence broadcast to an account without a route', async () => {
    const node = cluster.node(DC1, 'n1');
    const alice = await node.login('broadcast@example.com/p');
    const { Element } = await import('ltx');
    const dropped = () =>
      node.app
        .get(GdMetrics)
        .bounceFailures.get()
        .then((m) => m.values.find((v) => v.labels.reason === 'presence-not-queued')?.value ?? 0);
    const before = await dropped();
    for (const type of [undefined, 'unavailable']) {
      const attrs = { from: 'broadcast@example.com/p', to: 'ghost3@example.com' };
      await node.router.route(new Element('presence', type ? { ...attrs, type } : attrs));
      expect(node.router.bounced).toBe(0);
    }
    expect((await dropped()) - before).toBe(2);
    expect(alice.received).toEqual([]);
  });
});
