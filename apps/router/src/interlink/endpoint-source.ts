// Where the links learn what to dial. The module provides a Redis implementation
// (redis-endpoint-source.ts); tests and other modules may provide their own.

export interface RemoteEndpoint {
  readonly node: string;
  readonly host: string;
  readonly port: number;
}

export interface NodeEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface EndpointSource {
  /** Every endpoint of every live node of a datacenter. */
  endpointsOf(localHost: string): Promise<RemoteEndpoint[]>;
  /** The endpoints of one node, empty when it is not alive. */
  endpointsOfNode(localHost: string, node: string): Promise<NodeEndpoint[]>;
}

export const ENDPOINT_SOURCE = Symbol('ENDPOINT_SOURCE');
