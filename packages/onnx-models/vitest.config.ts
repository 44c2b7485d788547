import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // onnxruntime uses both cores of the 2-core machine: one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
