import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The integration tests run real Node processes, several per test; a timeout only catches a
    // hang (speed is measured in benchmarks), so it leaves room for a loaded CI machine.
    testTimeout: 60_000,
  },
});
