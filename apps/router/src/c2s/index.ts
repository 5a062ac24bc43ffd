// The public face of c2s: the module, and what another transport (WebSocket) plugs into.
export { C2sModule } from './c2s.module';
export { C2sServer } from './c2s-server';
export type { C2sTransport, C2sTransportHandlers } from './c2s-transport';
