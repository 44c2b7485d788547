import { availableParallelism } from 'node:os';

import { describe, expect, it } from 'vitest';

import { CONFIG_DEFAULTS, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const base = { MODEL_DIR: '/mnt/inference/models', MODEL_NAME: 'demo' };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it("reads the declaration's environment with the defaults", () => {
    const config = loadConfig({ ...base, NODE_MODULES_DIR: '/mnt/inference/node_modules' });
    expect(config).toMatchObject({
      modelDir: '/mnt/inference/models',
      modelName: 'demo',
      nodeModulesDir: '/mnt/inference/node_modules',
      fetchTimeoutMs: CONFIG_DEFAULTS.fetchTimeoutMs,
      maxImageBytes: 10 * 1024 * 1024,
      maxImagePixels: 40_000_000,
      maxRedirects: 3,
      allowedHosts: [],
      allowPrivateNetworks: false,
      allowSvg: false,
    });
  });

  it("gives onnxruntime one thread per vCPU of the function's memory, at most the cores present", () => {
    const cores = availableParallelism();
    expect(loadConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' }).threads).toBe(1);
    expect(loadConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769' }).threads).toBe(1);
    expect(loadConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008' }).threads).toBe(Math.min(2, cores));
    expect(loadConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' }).threads).toBe(Math.min(6, cores));
    expect(loadConfig({ ...base, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008', MODEL_THREADS: '1' }).threads).toBe(1);
  });

  it.each([
    [
      { MODEL_NAME: 'demo' },
      'MODEL_DIR',
      'MODEL_DIR is not set: set it to the models directory on the file system, for example /mnt/inference/models.',
    ],
    [
      { ...base, MODEL_DIR: 'models' },
      'MODEL_DIR',
      'MODEL_DIR is "models", a relative path: set it to the models directory on the file system, for example /mnt/inference/models.',
    ],
    [
      { MODEL_DIR: '/m' },
      'MODEL_NAME',
      'MODEL_NAME is not set: set it to the name of the model to serve (a directory of MODEL_DIR), for example demo.',
    ],
    [
      { ...base, MODEL_NAME: '../etc' },
      'MODEL_NAME',
      'MODEL_NAME is "../etc": use 1 to 64 letters, digits, ".", "-" or "_", starting with a letter or digit.',
    ],
    [{ ...base, NODE_MODULES_DIR: '/mnt/inference/lib' }, 'NODE_MODULES_DIR', /must be a directory named node_modules/],
    [
      { ...base, MODEL_THREADS: '0' },
      'MODEL_THREADS',
      'MODEL_THREADS is "0": set it to a whole number from 1 to 64 (onnxruntime intra-op threads), or unset it for the default.',
    ],
    [{ ...base, IMAGE_FETCH_TIMEOUT_MS: '5s' }, 'IMAGE_FETCH_TIMEOUT_MS', /set it to a whole number from 100 to 60000/],
    [{ ...base, IMAGE_FETCH_MAX_REDIRECTS: '5' }, 'IMAGE_FETCH_MAX_REDIRECTS', /from 0 to 3/],
    [
      { ...base, IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'yes' },
      'IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS',
      'IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS is "yes": set it to true or false, or unset it (false).',
    ],
    [{ ...base, IMAGE_FETCH_ALLOWED_HOSTS: 'images.example.com, http://x' }, 'IMAGE_FETCH_ALLOWED_HOSTS', /contains "http:\/\/x"/],
  ])('fails fast naming the variable (%#)', (env, variable, message) => {
    const error = configError(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it('reads the allowed ports (any when unset), refusing what is not a port', () => {
    expect(loadConfig(base).allowedPorts).toEqual([]);
    expect(loadConfig({ ...base, IMAGE_FETCH_ALLOWED_PORTS: '80, 443' }).allowedPorts).toEqual([80, 443]);
    expect(() => loadConfig({ ...base, IMAGE_FETCH_ALLOWED_PORTS: '80,https' })).toThrow(
      'IMAGE_FETCH_ALLOWED_PORTS contains "https": list port numbers (1-65535) separated by commas, for example 80,443, or unset it for any port.',
    );
  });

  it('reads the allow-list and the switches', () => {
    const config = loadConfig({
      ...base,
      IMAGE_FETCH_ALLOWED_HOSTS: 'Images.Example.com., *.wikimedia.org',
      IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'true',
      IMAGE_ALLOW_SVG: '1',
    });
    expect(config.allowedHosts).toEqual(['images.example.com', '*.wikimedia.org']);
    expect(config.allowPrivateNetworks).toBe(true);
    expect(config.allowSvg).toBe(true);
  });
});
