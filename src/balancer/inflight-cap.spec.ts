import { describe, expect, it } from 'vitest';
import { InflightCap } from './inflight-cap.js';

describe(InflightCap.name, () => {
  it('has room until its limit of requests is in flight', () => {
    const cap = new InflightCap(2);
    expect(cap.hasRoom).toBe(true);
    cap.occupy();
    expect([cap.hasRoom, cap.inFlight]).toEqual([true, 1]);
    cap.occupy();
    expect([cap.hasRoom, cap.inFlight]).toEqual([false, 2]);
  });

  it('has room again once a request releases its slot', async () => {
    const cap = new InflightCap(1);
    const release = cap.occupy();
    expect(cap.hasRoom).toBe(false);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect([cap.hasRoom, cap.inFlight]).toEqual([true, 0]);
  });

  it('queues nothing: a request over the cap takes no slot', async () => {
    const cap = new InflightCap(1);
    const release = cap.occupy();
    cap.occupy(); // over the cap: rejected by the bulkhead, not queued
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect([cap.hasRoom, cap.inFlight]).toEqual([true, 0]);
  });
});
