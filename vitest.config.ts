import { defineConfig } from 'vitest/config';

/** The long fault and timing scenarios, and --workers (several processes each): they measure under load, so they run alone, one file at a time. */
const SERIAL = ['test/fault-*.e2e-spec.ts', 'test/rate-limit-twice-the-limit.e2e-spec.ts', 'test/access-log-failures.e2e-spec.ts', 'test/redis-rate-limit-storage.e2e-spec.ts', 'test/redis-shared-rate-limit.e2e-spec.ts', 'test/redis-shared-breakers.e2e-spec.ts', 'test/redis-cluster-under-load.e2e-spec.ts', 'test/workers-*.e2e-spec.ts', 'test/websocket-leaks.e2e-spec.ts', 'test/config-reload.e2e-spec.ts', 'test/redis-shared-config.e2e-spec.ts', 'test/admin-api.e2e-spec.ts'];

export default defineConfig({
  test: {
    // E2E specs start real servers; give slow CI machines room without hiding hangs.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.spec.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.e2e-spec.ts'], exclude: SERIAL } },
      // Files run in sequence, and after the parallel projects (sequence.groupOrder), so no other test loads the machine meanwhile.
      { extends: true, test: { name: 'serial', include: SERIAL, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
