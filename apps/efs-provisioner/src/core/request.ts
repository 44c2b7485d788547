// The provisioner's event (contract C1), parsed strictly: a typo in a field is an error that
// names it, not a silently ignored option.
import { InvalidRequestError } from '../errors.js';

/** A release set under the mount: a model, or a platform's native libraries. */
const TARGET_PATTERN = /^(?:models\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}|libraries\/[a-z0-9][a-z0-9_-]{0,63})$/;
/** ml-inference's version pattern (`current` → `releases/<version>`). */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** Releases kept by default after an install. */
const DEFAULT_KEEP = 3;
const MAX_KEEP = 100;

/** Where the artifact is in S3, and what it must hash to. */
export interface ArtifactRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  /** Lower-case hex SHA-256 of the .tar.gz. */
  readonly sha256: string;
}

export interface InstallRequest {
  readonly action: 'install';
  readonly target: string;
  readonly version: string;
  readonly artifact: ArtifactRef;
  /** @default true */
  readonly activate: boolean;
  /** @default 3 */
  readonly keep: number;
}

export interface ActivateRequest {
  readonly action: 'activate';
  readonly target: string;
  readonly version: string;
}

export interface RollbackRequest {
  readonly action: 'rollback';
  readonly target: string;
  /** @default the previously active release */
  readonly to?: string;
}

export interface PruneRequest {
  readonly action: 'prune';
  readonly target: string;
  readonly keep: number;
}

export type ProvisionRequest = InstallRequest | ActivateRequest | RollbackRequest | PruneRequest;

/** What every action answers (contract C1). */
export interface ProvisionResult {
  readonly action: ProvisionRequest['action'];
  readonly target: string;
  /** Whether anything on the file system changed. */
  readonly changed: boolean;
  /** The version `current` points at afterwards, or null when nothing is active. */
  readonly active: string | null;
  /** The version `current` pointed at before, or null. */
  readonly previous: string | null;
  /** Installed versions afterwards, most recently used first. */
  readonly releases: readonly string[];
  /** Versions this call removed (prune, and install's `keep`). */
  readonly pruned: readonly string[];
  /** A sentence saying what happened. */
  readonly message: string;
}

const EXAMPLE = '{"action":"install","target":"models/demo","version":"1.0.0","artifact":{"bucket":"…","key":"…","sha256":"<64 hex>"}}';

/**
 * Checks an event and returns the typed request.
 * @throws {InvalidRequestError} naming the field and what it should be.
 */
export function parseRequest(event: unknown): ProvisionRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidRequestError(`The event must be a JSON object such as ${EXAMPLE}.`);
  }
  const record = event as Record<string, unknown>;
  const action = record['action'];
  switch (action) {
    case 'install': {
      allowOnly(record, ['action', 'target', 'version', 'artifact', 'activate', 'keep']);
      return {
        action,
        target: target(record),
        version: version(record, 'version'),
        artifact: artifact(record['artifact']),
        activate: optionalBoolean(record, 'activate') ?? true,
        keep: keep(record) ?? DEFAULT_KEEP,
      };
    }
    case 'activate':
      allowOnly(record, ['action', 'target', 'version']);
      return { action, target: target(record), version: version(record, 'version') };
    case 'rollback': {
      allowOnly(record, ['action', 'target', 'to']);
      const to = record['to'] === undefined || record['to'] === null ? undefined : version(record, 'to');
      return { action, target: target(record), ...(to === undefined ? {} : { to }) };
    }
    case 'prune': {
      allowOnly(record, ['action', 'target', 'keep']);
      const kept = keep(record);
      if (kept === undefined)
        throw new InvalidRequestError(
          '"keep" is required for prune: the number of releases to keep (1 or more; the active one is always kept).',
        );
      return { action, target: target(record), keep: kept };
    }
    default:
      throw new InvalidRequestError(
        `"action" must be "install", "activate", "rollback" or "prune", not ${JSON.stringify(action)}. Example: ${EXAMPLE}.`,
      );
  }
}

function allowOnly(record: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(record)) {
    if (!keys.includes(key))
      throw new InvalidRequestError(`Unknown field "${key}" for action "${String(record['action'])}": the fields are ${keys.join(', ')}.`);
  }
}

function target(record: Record<string, unknown>): string {
  const value = record['target'];
  if (typeof value !== 'string' || !TARGET_PATTERN.test(value)) {
    throw new InvalidRequestError(
      `"target" must be "models/<name>" (name: letters, digits, ".", "-", "_") or "libraries/<platform>" (e.g. "libraries/linux-arm64"), not ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function version(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string' || !VERSION_PATTERN.test(value)) {
    throw new InvalidRequestError(
      `"${field}" must be a version of 1 to 64 letters, digits, ".", "+", "-" or "_", starting with a letter or digit, not ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function optionalBoolean(record: Record<string, unknown>, field: string): boolean | undefined {
  const value = record[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InvalidRequestError(`"${field}" must be true or false, not ${JSON.stringify(value)}.`);
  return value;
}

function keep(record: Record<string, unknown>): number | undefined {
  const value = record['keep'];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_KEEP) {
    throw new InvalidRequestError(
      `"keep" must be an integer from 1 to ${MAX_KEEP} (releases to keep, the active one included), not ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function artifact(value: unknown): ArtifactRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequestError('"artifact" must be an object: {"bucket":"…","key":"…","versionId":"…" (optional),"sha256":"<64 hex>"}.');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['bucket', 'key', 'versionId', 'sha256'].includes(key))
      throw new InvalidRequestError(`Unknown field "artifact.${key}": the fields are bucket, key, versionId, sha256.`);
  }
  const { bucket, key, versionId, sha256 } = record;
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InvalidRequestError(`"artifact.bucket" must be an S3 bucket name, not ${JSON.stringify(bucket)}.`);
  }
  if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > 1024)
    throw new InvalidRequestError(`"artifact.key" must be an S3 object key (1 to 1024 bytes), not ${JSON.stringify(key)}.`);
  // "" (an unversioned object's version id as Terraform reports it) means the same as absent.
  if (versionId !== undefined && versionId !== null && (typeof versionId !== 'string' || versionId.length > 1024)) {
    throw new InvalidRequestError(`"artifact.versionId" must be an S3 version id, or absent, not ${JSON.stringify(versionId)}.`);
  }
  if (typeof sha256 !== 'string' || !SHA256_PATTERN.test(sha256)) {
    throw new InvalidRequestError(
      `"artifact.sha256" must be the artifact's SHA-256 as 64 lower-case hex digits, not ${JSON.stringify(sha256)}.`,
    );
  }
  return { bucket, key, sha256, ...(typeof versionId === 'string' && versionId !== '' ? { versionId } : {}) };
}
