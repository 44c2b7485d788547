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
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
