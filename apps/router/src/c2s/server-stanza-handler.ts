// Installs the edge's answers into the router core: the LocalServer handler (stanzas to a
// served domain itself, iq to a bare account JID) and the RFC 6121 selection of a bare JID's
// resources from the presence of each client session.
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Element } from 'ltx';
import { RouterConfig } from '../config-sync';
import { LocalSessions } from '../local-delivery/local-sessions';
import type { LocalSession } from '../local-delivery/local-session';
import { LocalServer } from '../routing/local-server';
import { C2sSession } from './c2s-session';
import { selectBareRecipients } from './presence-selection';
import { answerServerStanza } from './server-stanzas';

@Injectable()
export class ServerStanzaHandler implements OnModuleInit {
  constructor(
    private readonly server: LocalServer,
    private readonly sessions: LocalSessions,
    private readonly config: RouterConfig,
  ) {}

  onModuleInit(): void {
    this.server.use({ handle: (stanza) => answerServerStanza(stanza, this.config.snapshot) });
    this.sessions.useBareSelector((resources, stanza) => selectResources(resources, stanza));
  }
}

function selectResources(resources: LocalSession[], stanza: Element): LocalSession[] {
  const states = resources.map((session) =>
    session instanceof C2sSession ? session.presence : null,
  );
  return selectBareRecipients(resources, states, stanza);
}
