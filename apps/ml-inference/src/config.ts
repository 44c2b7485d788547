import { availableParallelism } from 'node:os';
import { basename, isAbsolute, normalize } from 'node:path';

import { ConfigError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The function's settings, read once from the environment at cold start by {@link loadConfig}. */
export interface MlInferenceConfig {
  /**
   * The models' directory on the file system (`MODEL_DIR`, required): `<dir>/<name>/current`
   * points at `releases/<version>/`. The post's TORCH_HOME.
   * @example '/mnt/inference/models'
   */
  readonly modelDir: string;
  /**
   * The model to serve (`MODEL_NAME`, required).
   * @example 'demo'
   */
  readonly modelName: string;
  /**
   * A `node_modules` directory on the file system to load onnxruntime-node and sharp from
   * (`NODE_MODULES_DIR`), the post's PYTHONPATH. Unset, or a directory that does not exist: from
   * the deployment package.
   * @default undefined
   */
  readonly nodeModulesDir: string | undefined;
  /**
   * onnxruntime intra-op threads (`MODEL_THREADS`).
   * @default one per vCPU Lambda gives the function's memory (1,769 MB = 1 vCPU), at most the cores present
   */
  readonly threads: number;
  /** The function's memory in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, set by Lambda); undefined elsewhere. */
  readonly memoryMb: number | undefined;
  /** How long fetching an image URL may take, redirects included (`IMAGE_FETCH_TIMEOUT_MS`). @default 5000 */
  readonly fetchTimeoutMs: number;
  /** Largest image, fetched or uploaded, in bytes (`IMAGE_MAX_BYTES`). @default 10485760 (10 MiB) */
  readonly maxImageBytes: number;
  /** Largest image in pixels, width × height (`IMAGE_MAX_PIXELS`): decompression bombs stop here. @default 40000000 */
  readonly maxImagePixels: number;
  /** Redirects followed, each checked again (`IMAGE_FETCH_MAX_REDIRECTS`, 0–3). @default 3 */
  readonly maxRedirects: number;
  /**
   * Hosts images may be fetched from (`IMAGE_FETCH_ALLOWED_HOSTS`, comma-separated; `*.example.com`
   * matches subdomains). Empty: any public host.
   * @default []
   */
  readonly allowedHosts: readonly string[];
  /**
   * Fetch from loopback, private (RFC 1918), carrier-grade NAT and unique-local addresses
   * (`IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS=true`). Only the local runtime sets it, to classify
   * images served on 127.0.0.1; never set it on AWS (it would expose the VPC). Link-local
   * (metadata services), multicast and unspecified addresses stay refused.
   * @default false
   */
  readonly allowPrivateNetworks: boolean;
  /** Accept SVG images (`IMAGE_ALLOW_SVG=true`), rendered by librsvg. @default false */
  readonly allowSvg: boolean;
  /**
   * The only ports image URLs may use (`IMAGE_FETCH_ALLOWED_PORTS`, comma-separated): the deployed
   * declaration sets what the functions' security group lets out (80 and 443), so another port is a
   * clear 400 instead of a timeout. Empty: any port (the local runtime).
   * @default []
   */
  readonly allowedPorts: readonly number[];
}

export const CONFIG_DEFAULTS = Object.freeze({
  fetchTimeoutMs: 5_000,
  maxImageBytes: 10 * 1024 * 1024,
  maxImagePixels: 40_000_000,
  maxRedirects: 3,
});

/** Lambda gives a function one vCPU's worth of CPU time per 1,769 MB of memory. */
const MB_PER_VCPU = 1769;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/**
 * Reads and checks the configuration. Throws {@link ConfigError} naming the first bad variable and
 * saying how to fix it, so a misconfigured function fails at cold start, not on a request. Nothing
 * here touches the file system: a missing model directory is a missing model (503 with how to
 * install one), not a configuration error.
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): MlInferenceConfig {
  const modelDir = readRequiredPath(env, 'MODEL_DIR', 'the models directory on the file system, for example /mnt/inference/models');
  const modelName = env['MODEL_NAME'];
  if (modelName === undefined || modelName === '') {
    throw new ConfigError(
      'MODEL_NAME',
      'is not set: set it to the name of the model to serve (a directory of MODEL_DIR), for example demo.',
    );
  }
  if (!NAME.test(modelName)) {
    throw new ConfigError(
      'MODEL_NAME',
      `is "${modelName}": use 1 to 64 letters, digits, ".", "-" or "_", starting with a letter or digit.`,
    );
  }
  const nodeModulesDir = readAbsolutePath(
    env,
    'NODE_MODULES_DIR',
    'a node_modules directory on the file system, for example /mnt/inference/node_modules',
  );
  if (nodeModulesDir !== undefined && basename(nodeModulesDir) !== 'node_modules') {
    throw new ConfigError(
      'NODE_MODULES_DIR',
      `is "${nodeModulesDir}": it must be a directory named node_modules (what npm install --prefix <dir> creates), for example /mnt/inference/node_modules.`,
    );
  }
  const memoryMb = readOptionalInteger(env, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 128, 10_240);
  const cores = availableParallelism();
  const defaultThreads = Math.max(1, Math.min(cores, Math.ceil((memoryMb ?? MB_PER_VCPU * cores) / MB_PER_VCPU)));
  const threads = readInteger(env, 'MODEL_THREADS', defaultThreads, 1, 64, 'onnxruntime intra-op threads');
  return Object.freeze({
    modelDir,
    modelName,
    nodeModulesDir,
    threads,
    memoryMb,
    fetchTimeoutMs: readInteger(env, 'IMAGE_FETCH_TIMEOUT_MS', CONFIG_DEFAULTS.fetchTimeoutMs, 100, 60_000, 'milliseconds'),
    maxImageBytes: readInteger(env, 'IMAGE_MAX_BYTES', CONFIG_DEFAULTS.maxImageBytes, 1_024, 100 * 1024 * 1024, 'bytes'),
    maxImagePixels: readInteger(env, 'IMAGE_MAX_PIXELS', CONFIG_DEFAULTS.maxImagePixels, 1, 268_402_689, 'pixels (width × height)'),
    maxRedirects: readInteger(env, 'IMAGE_FETCH_MAX_REDIRECTS', CONFIG_DEFAULTS.maxRedirects, 0, 3, 'redirects'),
    allowedHosts: readHosts(env, 'IMAGE_FETCH_ALLOWED_HOSTS'),
    allowPrivateNetworks: readBoolean(env, 'IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS'),
    allowSvg: readBoolean(env, 'IMAGE_ALLOW_SVG'),
    allowedPorts: readPorts(env, 'IMAGE_FETCH_ALLOWED_PORTS'),
  });
}

function readRequiredPath(env: Env, name: string, what: string): string {
  const value = readAbsolutePath(env, name, what);
  if (value === undefined) throw new ConfigError(name, `is not set: set it to ${what}.`);
  return value;
}

function readAbsolutePath(env: Env, name: string, what: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!isAbsolute(value)) throw new ConfigError(name, `is "${value}", a relative path: set it to ${what}.`);
  return normalize(value).replace(/(.)\/+$/, '$1');
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number, unit: string): number {
  const value = readOptionalInteger(env, name, min, max, unit);
  return value ?? fallback;
}

function readOptionalInteger(env: Env, name: string, min: number, max: number, unit = ''): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const parsed = /^[0-9]{1,12}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(
      name,
      `is "${value}": set it to a whole number from ${min} to ${max}${unit === '' ? '' : ` (${unit})`}, or unset it for the default.`,
    );
  }
  return parsed;
}

function readBoolean(env: Env, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(name, `is "${value}": set it to true or false, or unset it (false).`);
}

function readPorts(env: Env, name: string): readonly number[] {
  const value = env[name];
  if (value === undefined || value.trim() === '') return [];
  const ports = value.split(',').map((port) => port.trim());
  for (const port of ports) {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
      throw new ConfigError(
        name,
        `contains "${port}": list port numbers (1-65535) separated by commas, for example 80,443, or unset it for any port.`,
      );
    }
  }
  return Object.freeze(ports.map(Number));
}

function readHosts(env: Env, name: string): readonly string[] {
  const value = env[name];
  if (value === undefined || value.trim() === '') return [];
  const hosts = value
    .split(',')
    .map((host) => host.trim().toLowerCase().replace(/\.$/, ''))
    .filter((host) => host !== '');
  for (const host of hosts) {
    if (!HOST_PATTERN.test(host)) {
      throw new ConfigError(
        name,
        `contains "${host}": list host names separated by commas, each exact (images.example.com) or a wildcard for subdomains (*.example.com).`,
      );
    }
  }
  return Object.freeze(hosts);
}
