import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { TerraformNotFoundError } from '../../src/errors.js';
import { AWS_PROVIDER, findProviderPluginDir, findTerraform, holdsAwsProvider, terraformPlatform } from '../../src/terraform/terraform.js';
import { temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('terraform');
afterAll(() => work.remove());

describe('findTerraform', () => {
  it('says how to install terraform when it is not on PATH', () => {
    let error: unknown;
    try {
      findTerraform({ PATH: join(work.path, 'empty') });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TerraformNotFoundError);
    expect((error as TerraformNotFoundError).code).toBe('ETERRAFORMMISSING');
    expect((error as Error).message).toMatch(/^terraform was not found on PATH\. Install Terraform >= 1\.10/);
    expect((error as Error).message).toContain('https://developer.hashicorp.com/terraform/install');
  });

  it('finds the first executable terraform on PATH', () => {
    const bin = join(work.path, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'terraform'), '#!/bin/sh\n');
    chmodSync(join(bin, 'terraform'), 0o755);
    expect(findTerraform({ PATH: [join(work.path, 'missing'), bin].join(':') })).toBe(join(bin, 'terraform'));
  });
});

describe('findProviderPluginDir', () => {
  it('accepts LAMBDA_EFS_TF_PLUGIN_DIR when it holds the pinned provider for this platform', () => {
    const pluginDir = join(work.path, 'plugins');
    const { namespace, type, version } = AWS_PROVIDER;
    mkdirSync(join(pluginDir, 'registry.terraform.io', namespace, type, version, terraformPlatform()), { recursive: true });
    expect(holdsAwsProvider(pluginDir)).toBe(true);
    expect(findProviderPluginDir({ LAMBDA_EFS_TF_PLUGIN_DIR: pluginDir })).toBe(pluginDir);
  });

  it('returns null (a plain terraform init) when the named directory lacks the provider', () => {
    expect(findProviderPluginDir({ LAMBDA_EFS_TF_PLUGIN_DIR: join(work.path, 'nothing-here') })).toBeNull();
  });

  it('discovers a preinstalled plugin directory, if this machine has one, that holds the pinned provider', () => {
    const found = findProviderPluginDir({});
    if (found !== null) expect(holdsAwsProvider(found)).toBe(true);
  });

  it("names this machine's platform as Terraform does", () => {
    expect(terraformPlatform()).toMatch(/^(linux|darwin|windows|freebsd)_(amd64|arm64|386|arm)$/);
  });
});
