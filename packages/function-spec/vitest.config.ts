import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // A timeout only catches a hang (speed is measured in benchmarks): room for a loaded CI machine.
    testTimeout: 60_000,
  },
});
