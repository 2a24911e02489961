import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { LUA_NOW_MS } from '../../cluster/redis-connection.js';
import type { ThrottlerStorageRecord } from './rate-limiter.js';
import { BUCKETS_PER_WINDOW, seconds } from './sliding-window.storage.js';


/**
 * The embedded store's sliding window (sliding-window.storage.ts), kept in Redis so that every
 * instance counts against one limit: one string per client and throttler, a MessagePack array
 * `[blocked until, then for each sub-bucket: its number, accepted hits, the time of its latest hit]`.
 * A bucket counts until its latest hit is more than a ttl old, so no interval of one ttl holds more
 * than `limit` accepted hits, as in the embedded store. Time is Redis's own (TIME), never an
 * instance's clock. Refused hits are not recorded. One round trip: the whole decision is this script.
 * (One packed string, not a hash: handing a 40-field HGETALL to Lua cost Redis ~30 µs a call, the
 * packed GET and SET a few.)
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
local packed = redis.call('GET', key)
local window = packed and cmsgpack.unpack(packed) or { 0 }
local blockedUntil = window[1]
local kept = { blockedUntil }
local total, oldestHit, mine = 0, nil, nil
for i = 2, #window, 3 do
  local bucket, count, lastHit = window[i], window[i + 1], window[i + 2]
  if lastHit + ttl >= now then
    total = total + count
    if oldestHit == nil or lastHit < oldestHit then oldestHit = lastHit end
    kept[#kept + 1] = bucket
    kept[#kept + 1] = count
    kept[#kept + 1] = lastHit
    if bucket == current then mine = #kept - 2 end
  end
end
if blockedUntil > now then
  return { total, ttl, 1, blockedUntil - now, now }
end
if total >= limit then
  local wait = oldestHit + ttl - now
  if block > 0 then
    kept[1] = now + block
    redis.call('SET', key, cmsgpack.pack(kept), 'PX', math.max(ttl, block) + math.ceil(width))
    wait = block
  end
  return { total, oldestHit + ttl - now, 1, wait, now }
end
if mine then
  kept[mine + 1] = kept[mine + 1] + 1
  kept[mine + 2] = now
else
  kept[#kept + 1] = current
  kept[#kept + 1] = 1
  kept[#kept + 1] = now
end
redis.call('SET', key, cmsgpack.pack(kept), 'PX', ttl + math.ceil(width))
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
