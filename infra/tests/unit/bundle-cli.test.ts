import { describe, expect, it } from 'vitest';

import type { FunctionBundle } from '../../src/bundling/bundle.js';
import { formatBundleTable, parseBundleArgs } from '../../src/bundle-cli.js';
import { UsageError } from '../../src/errors.js';

const MB = 1024 * 1024;

function bundle(changes: Partial<FunctionBundle>): FunctionBundle {
  return {
    functionName: 'message-wall',
    architecture: 'arm64',
    zipPath: '/out/message-wall/handler.zip',
    sha256Base64: '',
    sha256Hex: '',
    contentSha256Base64: '',
    bytes: 30 * 1024,
    unzippedBytes: 100 * 1024,
    uploadViaS3: false,
    nativeModules: { from: 'package', declared: [], packages: [] },
    ...changes,
  };
}

describe('parseBundleArgs', () => {
  it('writes to infra/cdktf.out/bundles unless --out says otherwise', () => {
    expect(parseBundleArgs([]).outDir).toMatch(/infra\/cdktf\.out\/bundles$/);
    expect(parseBundleArgs(['--out', '/tmp/bundles']).outDir).toBe('/tmp/bundles');
  });

  it.each([[['--out']], [['--out', '']], [['--zip']], [['extra']], [['--help']]])('answers %j with the usage', (argv) => {
    expect(() => parseBundleArgs(argv)).toThrow(UsageError);
    expect(() => parseBundleArgs(argv)).toThrow(/usage: pnpm bundle \[--out <dir>\]/);
  });
});

describe('formatBundleTable', () => {
  it('lists each function with its architecture, sizes, upload path, native modules and where they come from', () => {
    const table = formatBundleTable(
      [
        bundle({}),
        bundle({
          functionName: 'ml-inference',
          architecture: 'x86_64',
          bytes: 56 * MB,
          unzippedBytes: 64 * MB,
          uploadViaS3: true,
          nativeModules: {
            from: 'package',
            declared: ['sharp'],
            packages: [
              {
                name: 'sharp',
                version: '0.35.5',
                source: '/repo/node_modules/.pnpm/sharp@0.35.5/node_modules/sharp',
                destination: 'node_modules/sharp',
                requiredBy: null,
              },
              {
                name: 'detect-libc',
                version: '2.1.2',
                source: '/repo/node_modules/.pnpm/detect-libc@2.1.2/node_modules/detect-libc',
                destination: 'node_modules/detect-libc',
                requiredBy: 'sharp',
              },
            ],
          },
        }),
        bundle({
          functionName: 'efs-ml',
          architecture: 'x86_64',
          nativeModules: { from: 'file-system', declared: ['onnxruntime-node'], packages: [] },
        }),
      ],
      '/repo',
    );
    expect(table.split('\n')).toEqual([
      'function      arch    zipped   unzipped  upload             native modules          from',
      '------------  ------  -------  --------  -----------------  ----------------------  ----------------------',
      'message-wall  arm64   0.0 MB   0.1 MB    direct             -                       -',
      'ml-inference  x86_64  56.0 MB  64.0 MB   S3 (over 50.0 MB)  sharp@0.35.5 (+1 deps)  in the zip',
      'efs-ml        x86_64  0.0 MB   0.1 MB    direct             onnxruntime-node        EFS (NODE_MODULES_DIR)',
      '',
      'Native modules in the zips, gathered from the workspace:',
      '  ml-inference: sharp 0.35.5 <- node_modules/.pnpm/sharp@0.35.5/node_modules/sharp',
      '  ml-inference: + 1 runtime dependencies: detect-libc 2.1.2',
    ]);
  });
});
