import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    // Synthesizing loads cdktf and the provider's classes once per test file.
    testTimeout: 30_000,
  },
});
