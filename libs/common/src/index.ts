export { SingleFlight } from './single-flight';
export { randomBase64url, randomHex, randomPoolBytes } from './random-pool';
export { TickBatcher } from './tick-batcher';
export { throttleKey } from './throttle-key';
