import { describe, expect, it } from 'vitest';
import { answersPing, REDIS_SERVER_MISSING, startRedis } from './support/redis.js';

describe("the Redis tests' own redis-server", () => {
  it('answers PING on its port, stops answering when killed, and answers again on the same port when restarted', async () => {
    const redis = await startRedis();
    try {
      expect(await answersPing(redis.port)).toBe(true);
      await redis.kill();
      expect(await answersPing(redis.port)).toBe(false);
      await redis.start();
      expect(await answersPing(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
  });

  it('fails with one line naming the install command when the binary is missing, never skipping', async () => {
    await expect(startRedis('redis-server-not-installed')).rejects.toThrow(REDIS_SERVER_MISSING);
  });
});
