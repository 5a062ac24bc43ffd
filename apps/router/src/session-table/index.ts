// What other router modules may use from the session table.
export { SessionTableModule } from './session-table.module';
export { SessionTable, LOOKUP_TIMEOUT_MS, type Location } from './session-table';
export { NodeRegistry, type Endpoint, type NodeEndpoint } from './node-registry';
export { SessionTableStoppedError, SessionTableUnavailableError } from './session-table-errors';
