import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  it('never runs the task twice at once and reruns once for kicks made meanwhile', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const flight = new SingleFlight(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      active--;
    });
    const first = flight.kick();
    flight.kick();
    flight.kick();
    await first;
    await flight.idle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('recovers after the task throws', async () => {
    let calls = 0;
    const flight = new SingleFlight(async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
    });
    await expect(flight.kick()).rejects.toThrow('boom');
    await flight.kick();
    expect(calls).toBe(2);
  });
});
