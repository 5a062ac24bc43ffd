export * from './jid';
export * from './stanza';
