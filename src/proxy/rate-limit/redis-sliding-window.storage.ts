import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { LUA_NOW_MS } from '../../cluster/redis-connection.js';
import type { ThrottlerStorageRecord } from './rate-limiter.js';
import { BUCKETS_PER_WINDOW, seconds } from './sliding-window.storage.js';


/**
 * The embedded store's sliding window (sliding-window.storage.ts), kept in Redis so that every
 * instance counts against one limit: one hash per client and throttler, `c<bucket>` = accepted hits
 * in that sub-bucket, `t<bucket>` = the time of its latest hit, `b` = blocked until. A bucket counts
 * until its latest hit is more than a ttl old, so no interval of one ttl holds more than `limit`
 * accepted hits, as in the embedded store. Time is Redis's own (TIME), never an instance's clock.
 * Refused hits are not recorded. One round trip: the whole decision is this script.
 *
 * A call that reaches Redis after its caller gave up on it (Redis was frozen or overloaded, the
 * command waited in its socket) is not recorded: the caller already decided locally, and counting
 * it again when Redis resumes would charge the client twice.
 *
 * KEYS[1] the client's key; ARGV: ttl ms, limit, block duration ms, buckets per window, the caller's
 * deadline on Redis's clock (ms; 0: none).
 * Returns { total hits, ms until the count drops, blocked (0/1), ms until a hit is accepted again, Redis's time (ms) },
 * or { -1, 0, 0, 0, Redis's time } past the deadline.
 */
const SLIDING_WINDOW_HIT = `
local key = KEYS[1]
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local block = tonumber(ARGV[3])
local width = ttl / tonumber(ARGV[4])
${LUA_NOW_MS}
local deadline = tonumber(ARGV[5])
if deadline > 0 and now > deadline then return { -1, 0, 0, 0, now } end
local current = math.floor(now / width)
local fields = redis.call('HGETALL', key)
local total, oldestHit, blockedUntil = 0, nil, 0
local counts, times, stale = {}, {}, {}
for i = 1, #fields, 2 do
  local name, value = fields[i], tonumber(fields[i + 1])
  local kind, bucket = string.sub(name, 1, 1), string.sub(name, 2)
  if name == 'b' then
    blockedUntil = value
  elseif kind == 'c' then
    counts[bucket] = value
  elseif kind == 't' then
    times[bucket] = value
  end
end
for bucket, count in pairs(counts) do
  local lastHit = times[bucket] or 0
  if lastHit + ttl < now then
    table.insert(stale, 'c' .. bucket)
    table.insert(stale, 't' .. bucket)
  else
    total = total + count
    if oldestHit == nil or lastHit < oldestHit then oldestHit = lastHit end
  end
end
if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
if blockedUntil > now then
  return { total, ttl, 1, blockedUntil - now, now }
end
if total >= limit then
  local wait = oldestHit + ttl - now
  if block > 0 then
    redis.call('HSET', key, 'b', now + block)
    redis.call('PEXPIRE', key, math.max(ttl, block) + math.ceil(width))
    wait = block
  end
  return { total, oldestHit + ttl - now, 1, wait, now }
end
redis.call('HINCRBY', key, 'c' .. current, 1)
redis.call('HSET', key, 't' .. current, now)
redis.call('PEXPIRE', key, ttl + math.ceil(width))
if oldestHit == nil then oldestHit = now end
return { total + 1, oldestHit + ttl - now, 0, 0, now }
`;

/** ioredis adds a method per defined command; this is its shape. */
interface WithSlidingWindowHit {
  gatewaySlidingWindowHit(key: string, ttl: number, limit: number, blockDuration: number, buckets: number, deadline: number): Promise<[number, number, number, number, number]>;
}

/**
 * The rate limiter's ThrottlerStorage when instances share state through Redis. The script runs by
 * its SHA (ioredis's defineCommand sends EVALSHA and loads it on NOSCRIPT). Keys are
 * `<prefix>rl:{<client>}:<throttler>`: one key per client and throttler, Redis-Cluster safe.
 * Errors and timeouts reach the caller, which decides what a failing Redis means.
 */
export class RedisSlidingWindowStorage implements ThrottlerStorage {
  private readonly redis: Redis & WithSlidingWindowHit;
  /** The client's deadline per call (its commandTimeout); 0: none. */
  private readonly callTimeoutMs: number;
  /**
   * Redis's clock minus this process's, as of the latest reply; undefined until the first. Its
   * error is the reply's way back (well under a millisecond on a LAN), which only makes deadlines
   * a little earlier.
   */
  private clockOffsetMs: number | undefined;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('gatewaySlidingWindowHit', { numberOfKeys: 1, lua: SLIDING_WINDOW_HIT });
    this.redis = redis as Redis & WithSlidingWindowHit;
    this.callTimeoutMs = redis.options.commandTimeout ?? 0;
  }

  /** When Redis should no longer record this call, on Redis's clock: when this caller stops waiting for it. */
  private deadline(): number {
    if (this.callTimeoutMs === 0 || this.clockOffsetMs === undefined) return 0;
    return Date.now() + this.clockOffsetMs + this.callTimeoutMs;
  }

  /** The Redis key of one client's window. */
  keyOf(key: string, throttlerName: string): string {
    return `${this.prefix}rl:{${key}}:${throttlerName}`;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    return (await this.hit(key, ttl, limit, blockDuration, throttlerName)).record;
  }

  /** As `increment`, with the time Redis decided at (ms, its own clock). */
  async hit(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<{ record: ThrottlerStorageRecord; decidedAtMs: number }> {
    const [totalHits, msUntilDrop, blocked, msUntilAccepted, decidedAtMs] = await this.redis.gatewaySlidingWindowHit(
      this.keyOf(key, throttlerName),
      ttl,
      limit,
      blockDuration,
      BUCKETS_PER_WINDOW,
      this.deadline(),
    );
    this.clockOffsetMs = decidedAtMs - Date.now();
    // Not recorded: the caller decides as for any late answer (FailOpenThrottlerStorage decides locally).
    if (totalHits === -1) throw new Error(`Redis ran the call after its ${this.callTimeoutMs} ms deadline`);
    const record = {
      totalHits,
      timeToExpire: seconds(msUntilDrop),
      isBlocked: blocked === 1,
      timeToBlockExpire: blocked === 1 ? seconds(msUntilAccepted) : 0,
    };
    return { record, decidedAtMs };
  }
}
