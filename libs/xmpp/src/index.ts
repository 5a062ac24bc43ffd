export * from './jid';
export * from './stanza';
export * from './stream-parser';
