import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // src/handler.ts configures its `handler` export from the environment when imported; tests
    // build their own handlers with createHandler on temporary directories.
    env: { MODEL_DIR: join(tmpdir(), 'ml-inference-tests-no-models'), MODEL_NAME: 'demo' },
    // onnxruntime and libvips use both cores; integration tests start real processes. On a
    // 2-core machine, one file at a time keeps them from starving each other.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
