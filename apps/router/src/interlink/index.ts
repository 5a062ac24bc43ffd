// The public face of the interlink module; everything else in this folder is internal.
export type { InterlinkEnvelope, InterlinkHello } from '#interlink';
export {
  ENDPOINT_SOURCE,
  type EndpointSource,
  type NodeEndpoint,
  type RemoteEndpoint,
} from './endpoint-source';
export { interlinkNowUs, type InterlinkPeer } from './incoming/incoming-link';
export {
  InterlinkConfigError,
  InterlinkSendError,
  type InterlinkSendFailure,
} from './interlink-errors';
export {
  DEFAULT_INTERLINK_OPTIONS,
  INTERLINK_OPTIONS,
  type InterlinkOptions,
  type InterlinkOptionsOverrides,
} from './interlink-options';
export { InterlinkModule } from './interlink.module';
export {
  InterlinkService,
  type DestinationInfo,
  type InterlinkEnv,
  type InterlinkHandler,
  type InterlinkTarget,
  type UndeliverableHandler,
} from './interlink.service';
export { RedisEndpointSource } from './redis-endpoint-source';
