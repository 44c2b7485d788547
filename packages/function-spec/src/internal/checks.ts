// Building blocks shared by the validators: an issue collector that formats one sentence per
// problem, field-path helpers, value previews and unknown-key detection with suggestions.
import { InvalidSpecError, type Issue } from '../errors.js';
import type { ValidationResult } from '../types.js';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `routes` + 1 → `routes[1]`; `environment` + `A-B` → `environment["A-B"]`. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** A short, unambiguous rendering of any value for a message. */
export function preview(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'number') text = Number.isNaN(value) ? 'NaN' : String(value);
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (value === null || typeof value === 'boolean' || value === undefined) text = String(value);
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'symbol') text = 'a symbol';
  else if (Array.isArray(value)) text = 'an array';
  else if (value instanceof URL) text = `URL ${JSON.stringify(value.href)}`;
  else text = 'an object';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function sentence(rule: string): string {
  return /[.!?]$/.test(rule) ? rule : `${rule}.`;
}

export class IssueList {
  readonly items: Issue[] = [];

  get length(): number {
    return this.items.length;
  }

  /** `<path> <value> is invalid: <rule>.` */
  invalid(path: string, value: unknown, rule: string): void {
    const subject = path === '' ? preview(value) : `${path} ${preview(value)}`;
    this.items.push({ path, message: `${subject} is invalid: ${sentence(rule)}` });
  }

  /** `<path> is missing: <rule>.` */
  missing(path: string, rule: string): void {
    this.items.push({ path, message: `${path} is missing: ${sentence(rule)}` });
  }

  /** `<path> is not a known field: ...` */
  unknownKey(path: string, suggestions: readonly string[], known: readonly string[]): void {
    // The list of known fields only helps when no field is a likely match.
    const hint =
      suggestions.length === 0
        ? `remove it, or use one of: ${known.join(', ')}.`
        : `did you mean ${suggestions.map((name) => `"${name}"`).join(' or ')}?`;
    this.items.push({ path, message: `${path} is not a known field: ${hint}` });
  }

  /** A problem that is about a relation between fields (duplicates, conflicts). */
  conflict(path: string, value: unknown, rule: string): void {
    this.invalid(path, value, rule);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof URL);
}

/** The value of an optional field; `undefined` and `null` both mean "not set". */
export function optional(record: Record<string, unknown>, key: string): unknown {
  const value = record[key];
  return value === null ? undefined : value;
}

/** Reports every key of `record` that is not in `known`, suggesting the field that was meant. */
export function checkKnownKeys(
  record: Record<string, unknown>,
  known: readonly string[],
  base: string,
  issues: IssueList,
  aliases: Aliases = {},
): void {
  for (const key of Object.keys(record)) {
    if (known.includes(key)) continue;
    issues.unknownKey(childPath(base, key), suggest(key, known, aliases), known);
  }
}

/** Other names people use for a field (`memorySize` for `memoryMb`); several when ambiguous. */
export type Aliases = Readonly<Record<string, string | readonly string[]>>;

function suggest(key: string, known: readonly string[], aliases: Aliases): readonly string[] {
  const lower = key.toLowerCase();
  const sameLetters = known.find((candidate) => candidate.toLowerCase() === lower);
  if (sameLetters !== undefined) return [sameLetters];
  const alias = Object.entries(aliases).find(([from]) => from.toLowerCase() === lower)?.[1];
  if (alias !== undefined) return typeof alias === 'string' ? [alias] : alias;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = levenshtein(lower, candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best === undefined ? [] : [best.name];
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Checks that `value` is an integer in [min, max]; returns it, or `undefined` after recording the
 * problem. `what` completes "must be ..." (e.g. "a whole number of MB from 128 to 10240").
 */
export function checkInteger(
  value: unknown,
  path: string,
  range: { readonly min: number; readonly max?: number },
  what: string,
  issues: IssueList,
): number | undefined {
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    issues.invalid(path, value, `${what}; write it as a number, without quotes`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || (range.max !== undefined && value > range.max)) {
    issues.invalid(path, value, what);
    return undefined;
  }
  return value;
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** The subject of a message: `Function "message-wall"`, or `Function (unnamed)`. */
export function subjectOf(kind: string, record: unknown): string {
  const name = isRecord(record) ? record['name'] : undefined;
  if (typeof name !== 'string' || name === '') return `${kind} (unnamed)`;
  return `${kind} ${preview(name)}`;
}

/**
 * Runs a checker over a fresh issue list and packs the outcome: the definition, or every issue
 * at once in one InvalidSpecError about `subject`.
 */
export function collectIssues<T>(subject: string, check: (issues: IssueList) => T | undefined): ValidationResult<T> {
  const issues = new IssueList();
  const value = check(issues);
  if (value === undefined || issues.length > 0) {
    const error = new InvalidSpecError(subject, issues.items);
    return { ok: false, issues: error.issues, error };
  }
  return { ok: true, value };
}
