// `pnpm start`: the main job. Until the local runtime lands (it serves every function on
// 127.0.0.1:3000), this checks the declarations the runtime will serve and says so.
import { defineSystem, localAccessPointDir, LOCAL_EFS_DIR } from '@lambda-efs/function-spec';
import { functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
import { functionDefinition as mlInference } from '@lambda-efs/ml-inference/function';

const system = defineSystem([messageWall, mlInference]);
console.log('Built every package. Declared functions:');
for (const fn of system.functions) {
  const mount = fn.fileSystem
    ? ` — ${fn.fileSystem.mountPath} -> ${localAccessPointDir(LOCAL_EFS_DIR, fn.fileSystem.accessPoint)}`
    : '';
  console.log(`  ${fn.name} (${fn.runtime}, ${fn.memoryMb} MB, ${fn.timeoutSeconds} s)${mount}`);
  for (const route of fn.routes) console.log(`    ${route}`);
}
console.log('\nThe local runtime that serves them on http://127.0.0.1:3000 is not built yet (see the open issues).');
