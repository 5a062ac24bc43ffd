// The public face of the WebSocket edge: its module.
export { WebSocketModule } from './websocket.module';
export { WEBSOCKET_PATH, XMPP_SUBPROTOCOL } from './upgrade-request';
