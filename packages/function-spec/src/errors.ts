/**
 * One error hierarchy for the package. Every error has a stable `code`, so callers can branch
 * without `instanceof` across package copies, and a message that says what to fix.
 */
export type FunctionSpecErrorCode = 'EINVALIDSPEC';

/** One problem found in a declaration. */
export interface Issue {
  /**
   * Where the problem is, relative to the declaration that was checked.
   * `''` for the declaration itself.
   * @example 'routes[1]'
   * @example 'fileSystem.accessPoint.owner.uid'
   */
  readonly path: string;
  /**
   * The whole problem in one sentence: field path, offending value, the rule and how to fix it.
   * @example 'routes[1] "GET message-wall" is invalid: a route path must start with "/" (example: "GET /message-wall").'
   */
  readonly message: string;
}

/** Base class of every error this package throws. */
export class FunctionSpecError extends Error {
  readonly code: FunctionSpecErrorCode;

  constructor(code: FunctionSpecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FunctionSpecError';
    this.code = code;
  }
}

/**
 * A declaration (function, access point, route key or a whole system) breaks one or more rules.
 * All problems are collected, not only the first: they are listed in the message and in `issues`.
 */
export class InvalidSpecError extends FunctionSpecError {
  /**
   * What was checked.
   * @example 'Function "message-wall"'
   */
  readonly subject: string;
  /** Every problem found, in the order the fields were checked. Never empty. */
  readonly issues: readonly Issue[];

  constructor(subject: string, issues: readonly Issue[], options?: { cause?: unknown }) {
    super('EINVALIDSPEC', formatMessage(subject, issues), options);
    this.name = 'InvalidSpecError';
    this.subject = subject;
    this.issues = Object.freeze([...issues]);
  }
}

function formatMessage(subject: string, issues: readonly Issue[]): string {
  if (issues.length === 1) return `${subject}: ${issues[0]?.message ?? ''}`;
  return `${subject} has ${issues.length} problems:\n${issues.map((issue) => `  - ${issue.message}`).join('\n')}`;
}
