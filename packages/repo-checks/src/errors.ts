// One error hierarchy for this package: a base class with a `code`, messages that say what to do.

export type RepoChecksErrorCode = 'EYAML' | 'EWORKSPACE' | 'ESHELL';

export class RepoChecksError extends Error {
  readonly code: RepoChecksErrorCode;

  constructor(code: RepoChecksErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RepoChecksError';
    this.code = code;
  }
}

/** A workflow or action file that is not valid YAML. */
export class YamlParseError extends RepoChecksError {
  readonly file: string;

  constructor(file: string, problems: readonly string[], options?: { cause?: unknown }) {
    super('EYAML', `${file} is not valid YAML; fix these first:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'YamlParseError';
    this.file = file;
  }
}

/** The workspace layout (pnpm-workspace.yaml, package.json files) could not be read. */
export class WorkspaceError extends RepoChecksError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EWORKSPACE', message, options);
    this.name = 'WorkspaceError';
  }
}
