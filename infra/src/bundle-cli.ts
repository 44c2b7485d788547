#!/usr/bin/env node
// `pnpm bundle [--out <dir>]` (root): writes every deployed function's deployment package, exactly
// as synth ships it, to <dir>/<function>/handler.zip (default infra/cdktf.out/bundles, what
// `pnpm start --bundles` serves), and prints what each holds: architecture, sizes, native modules
// and where they came from.
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  bundleFunctions,
  checkEntries,
  LAMBDA_DIRECT_UPLOAD_MAX_BYTES,
  megabytes,
  staleEntryWarning,
  type FunctionBundle,
} from './bundling/bundle.js';
import { environmentConfig, readDeployEnvironment, readSynthEnvironment } from './config.js';
import { InfraError, UsageError } from './errors.js';
import { reportFailure } from './report.js';
import { appSystem } from './system.js';

export const BUNDLE_USAGE =
  'usage: pnpm bundle [--out <dir>]\n' +
  "  Builds every function's deployment package (handler.mjs, its source map, native modules for the\n" +
  "  function's architecture) into <dir>/<function>/handler.zip. Default <dir>: infra/cdktf.out/bundles.";

const DEFAULT_OUT = fileURLToPath(new URL('../cdktf.out/bundles', import.meta.url));

/** Parses `[--out <dir>]`; throws {@link UsageError} with the usage text. */
export function parseBundleArgs(argv: readonly string[]): { outDir: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${BUNDLE_USAGE}`);
  }
  if (values.help) throw new UsageError(BUNDLE_USAGE);
  if (values.out?.trim() === '') throw new UsageError(`--out needs a directory.\n${BUNDLE_USAGE}`);
  return { outDir: resolve(values.out ?? DEFAULT_OUT) };
}

/** The table `pnpm bundle` prints: one row per function, then where each native module came from. */
export function formatBundleTable(bundles: readonly FunctionBundle[], cwd: string): string {
  const rows = bundles.map((bundle) => [
    bundle.functionName,
    bundle.architecture,
    megabytes(bundle.bytes),
    megabytes(bundle.unzippedBytes),
    bundle.uploadViaS3 ? `S3 (over ${megabytes(LAMBDA_DIRECT_UPLOAD_MAX_BYTES)})` : 'direct',
    bundle.nativeModules.declared.length === 0
      ? '-'
      : bundle.nativeModules.from === 'package'
        ? bundle.nativeModules.packages
            .filter((pkg) => pkg.requiredBy === null)
            .map((pkg) => `${pkg.name}@${pkg.version}`)
            .join(', ') + ` (+${bundle.nativeModules.packages.filter((pkg) => pkg.requiredBy !== null).length} deps)`
        : bundle.nativeModules.declared.join(', '),
    bundle.nativeModules.declared.length === 0 ? '-' : bundle.nativeModules.from === 'package' ? 'in the zip' : 'EFS (NODE_MODULES_DIR)',
  ]);
  const header = ['function', 'arch', 'zipped', 'unzipped', 'upload', 'native modules', 'from'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const sources = bundles.flatMap((bundle) => {
    const declared = bundle.nativeModules.packages.filter((pkg) => pkg.requiredBy === null);
    const dependencies = bundle.nativeModules.packages.filter((pkg) => pkg.requiredBy !== null);
    return [
      ...declared.map((pkg) => `  ${bundle.functionName}: ${pkg.name} ${pkg.version} <- ${shortPath(cwd, pkg.source)}`),
      ...(dependencies.length > 0
        ? [
            `  ${bundle.functionName}: + ${dependencies.length} runtime dependencies: ${dependencies.map((pkg) => `${pkg.name} ${pkg.version}`).join(', ')}`,
          ]
        : []),
    ];
  });
  return [
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    ...(sources.length > 0 ? ['', 'Native modules in the zips, gathered from the workspace:', ...sources] : []),
  ].join('\n');
}

/** `path` relative to `cwd` when it is below it, else absolute. */
function shortPath(cwd: string, path: string): string {
  const relativePath = relative(cwd, path);
  return relativePath === '' || relativePath.startsWith('..') || isAbsolute(relativePath) ? path : relativePath;
}

async function main(): Promise<void> {
  const { outDir } = parseBundleArgs(process.argv.slice(2));
  const system = appSystem();
  const { missing } = checkEntries(system.functions);
  if (missing.length > 0) throw new InfraError('EMISSINGENTRY', missing.map((error) => error.message).join('\n'));
  for (const fn of system.functions) {
    const warning = staleEntryWarning(fn);
    if (warning !== null) process.stderr.write(`WARNING: ${warning}\n`);
  }
  // The modules synth leaves to the runtime, so that these zips are the ones synth ships.
  const deploy = readDeployEnvironment(process.env);
  const externalModules = [
    ...new Set(readSynthEnvironment(process.env).environments.flatMap((name) => environmentConfig(name, deploy).functions.externalModules)),
  ];
  const bundles = await bundleFunctions(system.functions, { outDir, externalModules });
  const cwd = process.env['INIT_CWD'] ?? process.cwd();
  process.stdout.write(
    `${formatBundleTable([...bundles.values()], cwd)}\n\nWrote ${bundles.size} deployment package(s) to ${shortPath(cwd, outDir)}/<function>/handler.zip ` +
      `in ${(performance.now() / 1000).toFixed(1)} s.\n`,
  );
}

// Run only as a program, so that tests can import the parsing and the table.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main().catch(reportFailure);
