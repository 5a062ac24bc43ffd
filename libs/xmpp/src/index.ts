export * from './jid';
export * from './stanza';
export * from './stream-parser';
export * from './stanza-parser';
