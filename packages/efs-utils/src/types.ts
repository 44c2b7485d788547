/** A held lock on a path. Obtain one with `lock()` or use `withLock()`. */
export interface Lock {
  /** The path the lock protects (not the lock directory). */
  readonly path: string;
  readonly mode: LockMode;
  /**
   * Throws `LockCompromisedError` when the lease was lost or taken over. Cheap: it
   * answers from the lease's own bookkeeping and touches the file system only when the
   * lease is close to expiry.
   */
  assertHeld(): Promise<void>;
  /** True until release() or until the lease is known to be lost. */
  readonly held: boolean;
  /** Releases the lock. Idempotent; never throws for a lease that was already lost. */
  release(): Promise<void>;
}

export type LockMode = 'exclusive' | 'shared';
