import { describe, expect, it } from 'vitest';
import { parseEndpoints } from './redis-endpoint-source';

describe('parseEndpoints', () => {
  it('splits ip#port members on the last #, sorted', () => {
    expect(parseEndpoints(['10.0.0.2#5555', '10.0.0.1#5556', '::1#5555'])).toEqual([
      { host: '10.0.0.1', port: 5556 },
      { host: '10.0.0.2', port: 5555 },
      { host: '::1', port: 5555 },
    ]);
  });

  it('skips members that are not ip#port', () => {
    expect(parseEndpoints(['nohash', '#5555', 'h#0', 'h#70000', 'h#x', 'h#1.5', 'ok#1'])).toEqual([
      { host: 'ok', port: 1 },
    ]);
  });
});
