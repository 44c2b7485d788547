import { InvalidArgumentError } from './errors.js';
import type { Lock } from './types.js';

/** Throws InvalidArgumentError unless `value` is a non-empty path string without NUL bytes. */
export function assertPath(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`${name} must be a string path, got ${describe(value)}.`);
  }
  if (value.length === 0) {
    throw new InvalidArgumentError(`${name} must not be empty: pass the path of the file to use.`);
  }
  if (value.includes('\0')) {
    throw new InvalidArgumentError(`${name} must not contain a NUL byte.`);
  }
}

/** Throws unless `value` is undefined or a finite number within [min, max]. */
export function assertOptionalNumber(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number, got ${describe(value)}.`);
  }
  if (value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${value}.`);
  }
}

/** Throws unless `value` is undefined or a plain object (options bags). */
export function assertOptions(name: string, value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`${name} must be an object, got ${describe(value)}.`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return typeof value;
}

/** Throws unless `value` is undefined or a boolean. */
export function assertOptionalBoolean(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${name} must be true or false, got ${describe(value)}.`);
  }
}

/** Throws unless `value` is undefined or something with an `assertHeld()` method, like a Lock. */
export function assertOptionalLock(name: string, value: unknown): asserts value is Lock | undefined {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || typeof (value as Partial<Lock>).assertHeld !== 'function') {
    throw new InvalidArgumentError(
      `${name} must be a Lock returned by lock() (an object with an assertHeld() method), got ${describe(value)}.`,
    );
  }
}
