// Soak the lock protocol in the deterministic NFS simulation with many more seeds than `pnpm test`
// runs. Usage: node bench/sim-soak.mjs [--seeds 20000] [--first 1] [--profile random|F1|F2|F3|F4|F5|F7]
// Each profile isolates one fault class (see tests/sim/world.ts); failing seeds print a trace and
// replay with EFS_SIM_SEED=<n> EFS_SIM_PROFILE=<p> pnpm exec vitest run tests/integration/nfs-sim.test.ts.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20000' },
    first: { type: 'string', default: '1' },
    profile: { type: 'string', default: 'random' },
  },
});
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();
const result = spawnSync('pnpm', ['exec', 'vitest', 'run', 'tests/integration/nfs-sim.test.ts'], {
  cwd: packageDir,
  stdio: 'inherit',
  env: {
    ...process.env,
    EFS_SIM_SEEDS: values.seeds,
    EFS_SIM_FIRST: values.first,
    EFS_SIM_PROFILE: values.profile,
    EFS_SIM_STOP_AFTER: '20',
  },
});
const seconds = (performance.now() - started) / 1000;
console.log(
  `\nsim-soak: ${values.seeds} seeds of profile ${values.profile} from ${values.first} in ${seconds.toFixed(1)} s: ${result.status === 0 ? 'all invariants held' : 'FAILED'}`,
);
process.exit(result.status ?? 1);
