// Changesets' own reader validates .changeset/config.json against the workspace; then the release
// policy: only efs-utils is public, the apps and infra are ignored, private packages get no versions.
import { relative, sep } from 'node:path';

import { read } from '@changesets/config';
import readChangesets from '@changesets/read';
import { getPackages } from '@manypkg/get-packages';
import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../helpers/paths.js';

const PUBLISHED = ['@lambda-efs/efs-utils'];

describe('.changeset', () => {
  it('has a config that changesets accepts for this workspace', async () => {
    const packages = await getPackages(REPO_ROOT);
    const config = await read(REPO_ROOT, packages);
    expect(config).toMatchObject({ baseBranch: 'main', access: 'public', commit: false });
  });

  it('ignores the apps and infra, and gives private packages no version or tag', async () => {
    const packages = await getPackages(REPO_ROOT);
    const config = await read(REPO_ROOT, packages);
    const appsAndInfra = packages.packages
      .filter((pkg) => /^(apps\/[^/]+|infra)$/.test(relative(REPO_ROOT, pkg.dir).split(sep).join('/')))
      .map((pkg) => pkg.packageJson.name)
      .sort();
    expect(appsAndInfra.length).toBeGreaterThanOrEqual(3);
    expect([...config.ignore].sort()).toEqual(appsAndInfra);
    expect(config.privatePackages).toEqual({ version: false, tag: false });
  });

  it('publishes only efs-utils: every other workspace package is private', async () => {
    const { packages } = await getPackages(REPO_ROOT);
    const publishable = packages
      .filter((pkg) => (pkg.packageJson as { private?: boolean }).private !== true)
      .map((pkg) => pkg.packageJson.name);
    expect(publishable).toEqual(PUBLISHED);
  });

  it('has pending changesets only for the published package', async () => {
    const changesets = await readChangesets(REPO_ROOT);
    const others = changesets.flatMap((changeset) =>
      changeset.releases.filter((release) => !PUBLISHED.includes(release.name)).map((release) => `${changeset.id}: ${release.name}`),
    );
    expect(others).toEqual([]);
  });
});
