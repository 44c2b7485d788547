/**
 * One error hierarchy for the package: every error has a stable `code` and a message that says
 * what to do. The handler lets them escape, so Lambda reports a function error whose
 * `errorType` is the class name and whose `errorMessage` is the message (what the CLI, Terraform's
 * `aws_lambda_invocation` and `aws lambda invoke` print).
 */

export type ProvisionerErrorCode =
  | 'ECONFIG'
  | 'EREQUEST'
  | 'EBUCKET'
  | 'EDOWNLOAD'
  | 'EDIGEST'
  | 'EARCHIVE'
  | 'ELIMIT'
  | 'EVERSIONCONFLICT'
  | 'ENOTINSTALLED'
  | 'ESTATE'
  | 'EPUBLISH';

export class ProvisionerError extends Error {
  readonly code: ProvisionerErrorCode;

  constructor(code: ProvisionerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProvisionerError';
    this.code = code;
  }
}

/** The environment is missing a variable or has an invalid value. Thrown at cold start. */
export class ConfigError extends ProvisionerError {
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('ECONFIG', `${variable} ${message}`, options);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** The event (or a CLI argument) is malformed: unknown action, bad target or version, … */
export class InvalidRequestError extends ProvisionerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EREQUEST', message, options);
    this.name = 'InvalidRequestError';
  }
}

/** The artifact names a bucket this provisioner is not configured to read. */
export class BucketNotAllowedError extends ProvisionerError {
  constructor(bucket: string, allowed: string | undefined) {
    super(
      'EBUCKET',
      allowed === undefined
        ? `Artifacts cannot be read from bucket "${bucket}": ARTIFACT_BUCKET is not set on the function. Set it to the artifact bucket (infra does).`
        : `Artifacts are read only from bucket "${allowed}", not "${bucket}". Upload the artifact there (pnpm model:publish does).`,
    );
    this.name = 'BucketNotAllowedError';
  }
}

/** S3 refused or failed the download. */
export class DownloadError extends ProvisionerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EDOWNLOAD', message, options);
    this.name = 'DownloadError';
  }
}

/** The artifact's SHA-256 is not the one the caller expected: nothing was installed. */
export class DigestMismatchError extends ProvisionerError {
  readonly expected: string;
  readonly actual: string;

  constructor(what: string, expected: string, actual: string) {
    super(
      'EDIGEST',
      `${what} has SHA-256 ${actual}, not the expected ${expected}: it was changed or damaged after it was built. ` +
        'Nothing was installed. Upload the artifact again (pnpm model:publish) or pass its real sha256.',
    );
    this.name = 'DigestMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

/** The archive is malformed (truncated, bad checksum) or unsafe (`..`, absolute paths, links out, devices, duplicates). */
export class ArchiveError extends ProvisionerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EARCHIVE', message, options);
    this.name = 'ArchiveError';
  }
}

/** The archive exceeds a hard limit (total bytes, entry count, path length). */
export class ArchiveLimitError extends ProvisionerError {
  constructor(message: string) {
    super('ELIMIT', message);
    this.name = 'ArchiveLimitError';
  }
}

/** The version is installed already with other content: releases are immutable. */
export class VersionConflictError extends ProvisionerError {
  constructor(message: string) {
    super('EVERSIONCONFLICT', message);
    this.name = 'VersionConflictError';
  }
}

/** activate/rollback named a version that is not installed, or there is nothing to roll back to. */
export class NotInstalledError extends ProvisionerError {
  constructor(message: string) {
    super('ENOTINSTALLED', message);
    this.name = 'NotInstalledError';
  }
}

/** The release set on the file system is not in a state the provisioner can work with. */
export class ReleaseStateError extends ProvisionerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ESTATE', message, options);
    this.name = 'ReleaseStateError';
  }
}

/** model:publish / model:rollback could not do their job (missing outputs, failed invoke, …). */
export class PublishError extends ProvisionerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EPUBLISH', message, options);
    this.name = 'PublishError';
  }
}

/** The `code` of a Node.js system error, or undefined. */
export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
