import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration tests start real servers and child processes; on a 2-core machine shared with
    // other packages' suites, running files one at a time keeps timings meaningful.
    fileParallelism: false,
    // CI runs every package's suite at once on 2 cores: tests wait on events (eventually(), 30 s at
    // most), and the deadlines leave room for a machine many times slower than an idle one.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
