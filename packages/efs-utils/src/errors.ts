/**
 * One error hierarchy for the package. Every error has a stable `code` so callers can
 * branch without `instanceof` across package copies, and a message that says what to do.
 */
export type EfsUtilsErrorCode = 'EINVALIDARG' | 'ELOCKTIMEOUT' | 'ELOCKCOMPROMISED' | 'ECROSSDEVICE' | 'EDESTEXISTS';

export class EfsUtilsError extends Error {
  readonly code: EfsUtilsErrorCode;

  constructor(code: EfsUtilsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EfsUtilsError';
    this.code = code;
  }
}

/** An argument was missing, of the wrong type or out of range. Fix the call. */
export class InvalidArgumentError extends EfsUtilsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINVALIDARG', message, options);
    this.name = 'InvalidArgumentError';
  }
}

/** The lock could not be acquired within `timeoutMs`. */
export class LockTimeoutError extends EfsUtilsError {
  readonly path: string;
  readonly timeoutMs: number;

  constructor(path: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(
      'ELOCKTIMEOUT',
      `Timed out after ${timeoutMs} ms waiting for the lock on ${path}. Another process holds it; ` +
        `retry later, raise timeoutMs, or check for a holder that never releases it.`,
      options,
    );
    this.name = 'LockTimeoutError';
    this.path = path;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Whether the operation a {@link LockCompromisedError} interrupted took effect: `'not-done'` when
 * the lease was found lost before the commit (nothing was written), `'unknown'` when it could not
 * be confirmed after the commit (a `write` or `rename` that may have landed before the takeover).
 */
export type CompromisedOutcome = 'not-done' | 'unknown';

/**
 * The lease behind a lock was lost (not renewed in time, or taken over by another process
 * after `staleMs`). With `outcome` `'not-done'` nothing was committed: redo the whole
 * read-modify-write under a new lock. With `'unknown'` the commit may have happened: look
 * (under a new lock) before redoing it, or it may happen twice.
 */
export class LockCompromisedError extends EfsUtilsError {
  readonly path: string;
  readonly outcome: CompromisedOutcome;

  constructor(path: string, reason: string, options?: { cause?: unknown; outcome?: CompromisedOutcome }) {
    const outcome = options?.outcome ?? 'not-done';
    const what =
      outcome === 'not-done'
        ? 'Nothing was written; take the lock again and redo the operation.'
        : 'It may or may not have taken effect: take the lock again and look before redoing the operation, or it may be done twice.';
    super(
      'ELOCKCOMPROMISED',
      `The lock on ${path} is no longer held: ${reason}. ${what} ` +
        `If this repeats, raise staleMs or avoid blocking the event loop while holding the lock.`,
      options,
    );
    this.name = 'LockCompromisedError';
    this.path = path;
    this.outcome = outcome;
  }
}

/** A rename crossed file systems (EXDEV). efs-utils never falls back to a silent copy. */
export class CrossDeviceError extends EfsUtilsError {
  readonly from: string;
  readonly to: string;

  constructor(from: string, to: string, options?: { cause?: unknown }) {
    super(
      'ECROSSDEVICE',
      `Cannot move ${from} to ${to}: they are on different file systems, so the move cannot be atomic. ` +
        `Stage the data on the destination file system first (for example with atomicWriteFile), then move it there.`,
      options,
    );
    this.name = 'CrossDeviceError';
    this.from = from;
    this.to = to;
  }
}

/**
 * The destination of a move exists and `overwrite` was not set, or it exists in a form a rename
 * cannot replace (a non-empty directory, a directory in place of a file); `reason` then says what to do.
 */
export class DestinationExistsError extends EfsUtilsError {
  readonly to: string;

  constructor(to: string, options?: { cause?: unknown; reason?: string }) {
    const reason = options?.reason ?? 'it already exists. Pass { overwrite: true } to replace it.';
    super('EDESTEXISTS', `Refusing to replace ${to}: ${reason}`, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'DestinationExistsError';
    this.to = to;
  }
}
