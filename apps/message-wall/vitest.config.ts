import { tmpdir } from 'node:os';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // src/handler.ts configures its `handler` export from the environment when imported; tests
    // build their own handlers with createHandler on temporary directories.
    env: { MESSAGE_WALL_DIR: tmpdir() },
    // Integration tests run real processes contending for real files: on a 2-core machine,
    // running test files in parallel only adds noise.
    fileParallelism: false,
    // CI runs every package's suite at once on 2 cores: tests wait on events, and the deadlines
    // leave room for a machine many times slower than an idle one (the heaviest set their own).
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
