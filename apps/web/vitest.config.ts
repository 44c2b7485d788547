import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // src/handler.ts imports the module the build generates (dist/site-assets.js; src has only its
    // declaration): tests of src run against the site as built. `test` depends on `build` (turbo.json).
    alias: [{ find: /^(\.\.?\/)+(src\/)?site-assets\.js$/, replacement: new URL('./dist/site-assets.js', import.meta.url).pathname }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // The browser tests each start the local runtime and Chromium: on a 2-core machine, running
    // test files in parallel only adds noise.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
