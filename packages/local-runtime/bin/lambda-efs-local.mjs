#!/usr/bin/env node
// The command's entry. Committed (dist/ is not) so that `pnpm install` can link the command on
// a fresh clone, before the first build; the command itself is the compiled dist/cli/bin.js.
try {
  await import('../dist/cli/bin.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/bin.js')) throw error;
  console.error('lambda-efs-local is not built yet: run `pnpm exec turbo run build --filter=@lambda-efs/local-runtime` first.');
  process.exit(1);
}
