// The executor of the routing decision: a stanza from a local session or from the interlink
// goes through the sender's serial lane, is looked up, decided on (decideRoute), and then
// delivered, forwarded, or kept in the bounce queue until a route appears or its retries run
// out. Routing decides; the interlink and the sessions do the I/O.
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Element } from 'ltx';
import type { HostTypeConfig } from '#config';
import type { InterlinkEnvelope } from '#interlink';
import {
  bareString,
  isBare,
  isDomainJid,
  jidToString,
  parseJid,
  serviceUnavailable,
  StanzaParser,
  type Jid,
} from '#xmpp';
import { BounceQueue, type RetryPolicy } from '../bounce/bounce-queue';
import { RouterConfig, type RouterSnapshot } from '../config-sync/router-config';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';
import { InterlinkSendError } from '../interlink/interlink-errors';
import { InterlinkService } from '../interlink/interlink.service';
import { LocalSessions } from '../local-delivery/local-sessions';
import type { LocalSession } from '../local-delivery/local-session';
import { GdMetrics } from '../metrics/gd-metrics';
import { SessionTable } from '../session-table/session-table';
import { KeyedSerialQueue } from './keyed-serial-queue';
import { LocalServer } from './local-server';
import { isPresenceBroadcast, pairKey, type Routable } from './routable';
import { decideRoute, type RouteDecision } from './route-decision';

/** Stanzas admitted into the lanes at once; past it, `route()` callers wait (backpressure). */
const MAX_IN_FLIGHT = 50_000;

const nowUs = () => Math.round(performance.timeOrigin * 1000 + performance.now() * 1000);

@Injectable()
export class Router implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Router.name);
  /** Stanzas from the interlink (one tokenizer for all, see StanzaParser). */
  private readonly stanzaParser = new StanzaParser();
  private readonly lanes = new KeyedSerialQueue(MAX_IN_FLIGHT, (error, key) =>
    this.logger.error({ err: error, sender: key }, 'routing failed'),
  );
  private readonly bounce: BounceQueue<Routable>;
  private readonly retrying = new Set<string>();
  private bounceTimer: NodeJS.Timeout | null = null;
  private bounceTimerAt = Infinity;
  /** Set once drain() starts: a stanza with no route is answered at once, never queued. */
  private stopping = false;
  private componentDomains: { snapshot: RouterSnapshot; domains: ReadonlySet<string> } | null =
    null;

  constructor(
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly config: RouterConfig,
    private readonly table: SessionTable,
    private readonly sessions: LocalSessions,
    private readonly interlink: InterlinkService,
    private readonly server: LocalServer,
    private readonly metrics: GdMetrics,
  ) {
    this.bounce = new BounceQueue<Routable>({
      enabled: true,
      resendAfterMs: 200,
      maxRetries: 4,
      maxQueued: 10_000,
    });
  }

  onModuleInit(): void {
    this.interlink.setHandler((envelope) => {
      const handled = this.receive(envelope);
      // While stopping, the links close once their handlers are done: let the replies to what
      // arrived late (errors to its senders) reach the outgoing queues first. Only then: the
      // usual path costs no extra promise per stanza.
      return this.stopping ? handled.then(() => this.lanes.drain()) : handled;
    });
    this.interlink.onUndeliverable((envelope) => void this.routeAgain(envelope));
    this.table.onInvalidated((jids) => this.retryRecipients(new Set(jids)));
    this.config.onChange((next) => this.bounce.setPolicy(next.config.bounce));
    if (this.config.applied) this.bounce.setPolicy(this.config.snapshot.config.bounce);
  }

  /**
   * Shutdown, first phase (before the session table removes this node's entries and the
   * links close): what is in flight finishes and the bounce queue is flushed or answered.
   */
  async onModuleDestroy(): Promise<void> {
    await this.drain();
  }

  /** Stanzas waiting in the bounce queue. */
  get bounced(): number {
    return this.bounce.size;
  }

  /**
   * A stanza from a session of this node; its `from` is the session's JID (the edge sets it).
   * Resolves once it is delivered, forwarded, queued for a retry, or answered with an error.
   */
  route(stanza: Element): Promise<void> {
    const from = parseJid(stanza.attrs.from ?? '');
    const to = parseJid(stanza.attrs.to ?? '');
    if (!from || !to) return Promise.resolve();
    return this.submit(this.enteringHere(stanza, from, to));
  }

  /**
   * Hands a stanza to the session of its `to` on a node known by the caller (the edge's
   * notice to an older session of a full JID, found with SessionTable.holderOf): no lookup.
   * Best effort: if the session is not there any more, the receiving node routes the stanza
   * as usual; if the node cannot be reached, it is dropped.
   */
  async deliverAt(stanza: Element, at: { localHost: string; node: string | null }): Promise<void> {
    const from = parseJid(stanza.attrs.from ?? '');
    const to = parseJid(stanza.attrs.to ?? '');
    if (!from || !to) return;
    if (at.localHost === this.env.localHost && (at.node === null || at.node === this.env.node)) {
      this.sessions.find(to)?.deliver(stanza);
      return;
    }
    const item = this.enteringHere(stanza, from, to);
    const target =
      at.node === null ? { localHost: at.localHost } : { localHost: at.localHost, node: at.node };
    try {
      await this.interlink.send(target, {
        ttl: item.ttl,
        origin: item.origin,
        stanzaId: item.stanzaId,
        sentAtUs: item.sentAtUs,
        senderKey: item.senderKey,
        bounceAttempts: 0,
        targetNode: at.node,
        stanza: stanza.toString(),
      });
    } catch (error) {
      this.logger.debug?.(
        { to: stanza.attrs.to, err: error },
        'deliverAt: node unreachable, dropped',
      );
    }
  }

  /** A stanza from another node or datacenter. */
  receive(envelope: InterlinkEnvelope): Promise<void> {
    const item = this.fromEnvelope(envelope, envelope.targetNode);
    if (!item) return Promise.resolve();
    // Replies route straight back to where the sender lives (cache only, not Redis).
    if (envelope.origin !== this.env.localHost) this.table.learnOrigin(item.from, envelope.origin);
    return this.submit(item);
  }

  /**
   * A stanza this node had queued for another node that died before taking it: routed again
   * from the start (its recipient has moved, or it bounces and its sender gets an error).
   */
  routeAgain(envelope: InterlinkEnvelope): Promise<void> {
    const item = this.fromEnvelope(envelope, null);
    if (!item) return Promise.resolve();
    this.table.forget(this.routingTarget(item.to));
    return this.submit(item);
  }

  /** The stanza of an envelope with its routing facts; null (logged) when it is unusable. */
  private fromEnvelope(envelope: InterlinkEnvelope, targetNode: string | null): Routable | null {
    let stanza: Element;
    try {
      stanza = this.stanzaParser.parse(envelope.stanza);
    } catch (error) {
      this.logger.warn(
        { stanzaId: envelope.stanzaId, origin: envelope.origin, err: error },
        'unparsable stanza from the interlink dropped',
      );
      return null;
    }
    const from = parseJid(stanza.attrs.from ?? '');
    const to = parseJid(stanza.attrs.to ?? '');
    if (!from || !to) return null;
    return {
      stanza,
      from,
      to,
      senderKey: envelope.senderKey,
      ttl: envelope.ttl,
      origin: envelope.origin,
      stanzaId: envelope.stanzaId,
      targetNode,
      sentAtUs: envelope.sentAtUs,
    };
  }

  /** Waits for every stanza admitted so far, then gives each bounced pair a last try. */
  async drain(): Promise<void> {
    this.stopping = true;
    await this.lanes.drain();
    if (this.bounceTimer) clearTimeout(this.bounceTimer);
    this.bounceTimer = null;
    for (const key of this.bounce.keys()) {
      const head = this.bounce.peek(key);
      if (!head) continue;
      await this.lanes.run(head.senderKey, async () => {
        if (!(await this.flushPair(key, true))) {
          for (const item of this.bounce.take(key)) this.fail(item, 'shutdown');
        }
      });
    }
    this.metrics.bounceQueueSize.set(this.bounce.size);
    await this.lanes.drain();
  }

  private submit(item: Routable): Promise<void> {
    return this.lanes.run(item.senderKey, () => this.process(item));
  }

  private async process(item: Routable): Promise<void> {
    const key = pairKey(item);
    if (this.bounce.hasPair(key)) {
      // Earlier stanzas of this pair are waiting: queue behind them to keep the order, and
      // check (without counting a retry) whether their route has appeared meanwhile.
      this.enqueueBounce(item);
      await this.flushPair(key, false);
      return;
    }
    if (!(await this.tryRoute(item))) this.enqueueBounce({ ...item, targetNode: null });
  }

  /** True when the stanza was handled (delivered, forwarded, answered); false: no route yet. */
  private async tryRoute(item: Routable): Promise<boolean> {
    const to = this.routingTarget(item.to);
    const local = this.localTargets(to, item.stanza);
    const facts = {
      localHost: this.env.localHost,
      selfNode: this.env.node,
      toDomainOnly: isDomainJid(to),
      toServedDomain: to.domain === this.env.localHost || this.config.isServedDomain(to.domain),
      localSessions: local.length,
      location: null as string | null,
      nodes: [] as string[],
      ttl: item.ttl,
    };
    // RFC 6121 §8.5.1: an iq to a bare account JID is answered by the server for the account.
    if (item.stanza.name === 'iq' && isBare(to) && !isDomainJid(to))
      return this.answerAsServer(item);
    let decision: RouteDecision = decideRoute(facts);
    if (decision.kind === 'local') return this.deliverLocally(item, local);
    if (decision.kind === 'server') return this.answerAsServer(item);
    // Sent here by another node of this datacenter for a session that has just gone.
    if (item.targetNode === this.env.node) return false;

    try {
      facts.location = (await this.table.lookup(to))?.localHost ?? null;
      if (this.isComponentDomain(to)) {
        // An instance on another node of this datacenter goes before one in another
        // datacenter, whichever datacenter the domain's mapping names (several may serve it).
        const nodes = await this.table.nodesOfDomain(to.domain);
        if (nodes.some((node) => node !== this.env.node)) {
          facts.location = this.env.localHost;
          facts.nodes = nodes;
        }
      } else if (facts.location === this.env.localHost && !isBare(to)) {
        const node = await this.table.nodeOf(to);
        if (node) facts.nodes = [node];
      } else if (facts.location === this.env.localHost && !isDomainJid(to)) {
        // A bare JID whose resources are on other nodes of this datacenter: one of them gets
        // the stanza and applies the presence-based selection of its resources there.
        facts.nodes = await this.table.nodesOfBare(to);
      }
    } catch {
      return false; // Redis unreachable and nothing cached: bounce, retry later.
    }
    decision = decideRoute(facts);
    switch (decision.kind) {
      case 'node':
        return this.forward(
          { localHost: this.env.localHost, node: decision.node },
          { ...item, targetNode: decision.node },
        );
      case 'datacenter':
        return this.forward(
          { localHost: decision.localHost },
          { ...item, ttl: decision.ttl, targetNode: null },
        );
      case 'ttl-zero':
        this.metrics.stopTtlZero.inc();
        this.fail(item, 'ttl-zero');
        return true;
      default:
        return false;
    }
  }

  /**
   * XEP-0114: a component serves its domain and every JID at it (rooms, gateway users), so a
   * stanza to any of them is routed by the domain's mapping to the domain's session.
   */
  private routingTarget(to: Jid): Jid {
    if (isDomainJid(to) && isBare(to)) return to;
    return this.isComponentDomain(to) ? { local: '', domain: to.domain, resource: '' } : to;
  }

  /** Whether `to` is at a domain of the revision's components[]. */
  private isComponentDomain(to: Jid): boolean {
    if (!this.config.applied) return false;
    const { snapshot } = this.config;
    if (this.componentDomains?.snapshot !== snapshot) {
      const domains = new Set(snapshot.config.components.map((c) => c.domain.toLowerCase()));
      this.componentDomains = { snapshot, domains };
    }
    return this.componentDomains.domains.has(to.domain);
  }

  private localTargets(to: Jid, stanza: Element): LocalSession[] {
    if (isDomainJid(to) || !isBare(to)) {
      const session = this.sessions.find(to);
      return session ? [session] : [];
    }
    return this.sessions.recipientsOfBare(to, stanza);
  }

  /** False when no session took it (every one was ending): the caller routes it again. */
  private deliverLocally(item: Routable, sessions: LocalSession[]): boolean {
    let taken = false;
    for (const session of sessions) taken = session.deliver(item.stanza) || taken;
    if (taken && item.origin !== this.env.localHost) {
      this.metrics.deliveredWithTtl.observe(item.ttl);
    }
    return taken;
  }

  private answerAsServer(item: Routable): boolean {
    const reply = this.server.handle(item.stanza);
    if (reply) this.reply(item, reply);
    return true;
  }

  private async forward(
    to: { localHost: string; node?: string },
    item: Routable,
  ): Promise<boolean> {
    const envelope: InterlinkEnvelope = {
      ttl: item.ttl,
      origin: item.origin,
      stanzaId: item.stanzaId,
      sentAtUs: item.sentAtUs,
      senderKey: item.senderKey,
      bounceAttempts: 0,
      targetNode: item.targetNode,
      stanza: item.stanza.toString(),
    };
    try {
      await this.interlink.send(to, envelope);
      return true;
    } catch (error) {
      const fields = {
        stanzaId: item.stanzaId,
        to: to.node ? `${to.localHost}#${to.node}` : to.localHost,
        err: error,
      };
      // An unreachable node is logged once by its link, not once per stanza sent its way.
      if (error instanceof InterlinkSendError && error.reason === 'unreachable') {
        this.logger.debug?.(fields, 'interlink destination unreachable; bouncing');
      } else {
        this.logger.warn(fields, 'interlink send failed; bouncing');
      }
      this.table.forget(this.routingTarget(item.to));
      return false;
    }
  }

  private enqueueBounce(item: Routable): void {
    if (this.stopping) {
      // What arrives over the links after the drain (a peer routed it before this node's
      // sessions left Redis) would wait in a queue that nobody retries: answer it now.
      this.fail(item, 'shutdown');
      return;
    }
    if (isPresenceBroadcast(item)) {
      // Presence is state, not a message: a retried one would arrive stale. A broadcast to an
      // account with no route (its last session just ended, say) is dropped, as RFC 6121
      // §4.5 drops presence to an account with no available resource.
      this.metrics.bounceFailures.inc({ reason: 'presence-not-queued' });
      return;
    }
    const key = pairKey(item);
    const outcome = this.bounce.add(
      key,
      item,
      Date.now(),
      this.bouncePolicyFor(item.from),
      bareString(this.routingTarget(item.to)),
    );
    if (outcome !== 'queued') {
      this.fail(item, outcome === 'full' ? 'queue-full' : 'no-route');
      return;
    }
    this.metrics.bounceQueueSize.set(this.bounce.size);
    // Only this pair can be due sooner than the timer: no scan of the whole queue.
    const dueAt = this.bounce.dueAtOf(key);
    if (dueAt !== null && dueAt < this.bounceTimerAt) this.armBounceTimer(dueAt);
  }

  /**
   * Tries the oldest stanza of a pair again; if it goes, the rest follow in order. A counted
   * retry drops the recipient's cached entries first and, if it fails, uses up one of
   * `maxRetries`.
   */
  private async flushPair(key: string, counted: boolean): Promise<boolean> {
    const head = this.bounce.peek(key);
    if (!head) return true;
    if (counted) this.table.forget(this.routingTarget(head.to));
    let flushed = false;
    if (await this.tryRoute(head)) {
      flushed = true;
      const rest = this.bounce.take(key).slice(1);
      for (let i = 0; i < rest.length; i++) {
        if (!(await this.tryRoute(rest[i]!))) {
          for (const item of rest.slice(i)) this.enqueueBounce(item);
          break;
        }
      }
    } else if (counted) {
      const exhausted = this.bounce.retryFailed(key, Date.now());
      for (const item of exhausted ?? []) this.fail(item, 'exhausted');
    }
    this.metrics.bounceQueueSize.set(this.bounce.size);
    this.scheduleBounceTimer();
    return flushed;
  }

  /** A recipient logged in or moved: try its waiting stanzas now ("as soon as a route appears"). */
  private retryRecipients(jids: ReadonlySet<string>): void {
    const candidates = new Set<string>();
    for (const jid of jids) {
      const parsed = parseJid(jid);
      if (parsed) for (const key of this.bounce.keysFor(bareString(parsed))) candidates.add(key);
    }
    for (const key of candidates) {
      const head = this.bounce.peek(key);
      if (!head || this.retrying.has(key)) continue;
      const target = this.routingTarget(head.to);
      if (!jids.has(jidToString(target)) && !jids.has(bareString(target))) continue;
      this.retrying.add(key);
      void this.lanes.run(head.senderKey, async () => {
        try {
          await this.flushPair(key, false);
        } finally {
          this.retrying.delete(key);
        }
      });
    }
  }

  private scheduleBounceTimer(): void {
    const next = this.bounce.nextDueAt();
    if (next === null || next >= this.bounceTimerAt) return;
    this.armBounceTimer(next);
  }

  private armBounceTimer(next: number): void {
    if (this.bounceTimer) clearTimeout(this.bounceTimer);
    this.bounceTimerAt = next;
    this.bounceTimer = setTimeout(() => this.onBounceTimer(), Math.max(0, next - Date.now()));
    this.bounceTimer.unref();
  }

  private onBounceTimer(): void {
    this.bounceTimer = null;
    this.bounceTimerAt = Infinity;
    for (const key of this.bounce.due(Date.now())) {
      const head = this.bounce.peek(key);
      if (!head) continue;
      this.bounce.beginRetry(key);
      void this.lanes.run(head.senderKey, async () => {
        await this.flushPair(key, true);
      });
    }
    this.scheduleBounceTimer();
  }

  /** The sender gets `service-unavailable` from the recipient (never silence). */
  private fail(item: Routable, reason: string): void {
    this.metrics.bounceFailures.inc({ reason });
    const error = serviceUnavailable(item.stanza);
    if (error) this.reply(item, error);
  }

  /** Routes a reply to the stanza's sender, in the lane of the replying JID (never awaited:
   * awaiting another lane from inside one could deadlock two senders answering each other). */
  private reply(item: Routable, stanza: Element): void {
    const from = parseJid(stanza.attrs.from ?? '') ?? item.to;
    void this.submit(this.enteringHere(stanza, from, item.from));
  }

  /** A stanza that starts its way at this datacenter: full TTL, this origin, now. */
  private enteringHere(stanza: Element, from: Jid, to: Jid): Routable {
    return {
      stanza,
      from,
      to,
      senderKey: jidToString(from),
      ttl: this.messageTtlFor(from),
      origin: this.env.localHost,
      stanzaId: stanza.attrs.id ?? '',
      targetNode: null,
      sentAtUs: nowUs(),
    };
  }

  /** `messageTtl`, or the sender's host type's override. */
  private messageTtlFor(from: Jid): number {
    if (!this.config.applied) return 4;
    return this.hostTypeOf(from)?.messageTtl ?? this.config.snapshot.config.messageTtl;
  }

  /** `bounce`, or the sender's host type's override. */
  private bouncePolicyFor(from: Jid): RetryPolicy | undefined {
    return this.config.applied ? this.hostTypeOf(from)?.bounce : undefined;
  }

  /** The host type of the sender's dynamic domain (the global host has none). */
  private hostTypeOf(from: Jid): HostTypeConfig | undefined {
    const { config, domains } = this.config.snapshot;
    const name = domains.get(from.domain)?.hostType;
    return name === undefined ? undefined : config.hostTypes.find((h) => h.name === name);
  }
}
