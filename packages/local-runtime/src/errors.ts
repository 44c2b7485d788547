/**
 * One error hierarchy for the package. Every error has a stable `code`, so callers can branch
 * without `instanceof` across package copies, and a message that says what to do.
 */
export type LocalRuntimeErrorCode = 'EINVALIDDECLARATION' | 'EMISSINGENTRY' | 'EINVALIDOPTION' | 'EACCESSPOINTDIR' | 'ELISTEN' | 'EPACKAGE';

/** Base class of every error this package throws. */
export class LocalRuntimeError extends Error {
  readonly code: LocalRuntimeErrorCode;

  constructor(code: LocalRuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalRuntimeError';
    this.code = code;
  }
}

/** One problem in the declarations, with the function it belongs to when there is one. */
export interface DeclarationIssue {
  /** @example 'message-wall' */
  readonly functionName: string | undefined;
  /** Path of the field in what was passed to `startLocalApi`. @example 'functions[0].routes[1]' */
  readonly path: string;
  readonly message: string;
}

/**
 * The function or access point declarations break a rule: nothing was started. `issues` lists
 * every problem; `cause` is function-spec's `InvalidSpecError` when it found them.
 */
export class InvalidDeclarationError extends LocalRuntimeError {
  readonly issues: readonly DeclarationIssue[];

  constructor(issues: readonly DeclarationIssue[], options?: { cause?: unknown }) {
    const lines = issues.map((issue) =>
      issue.functionName === undefined ? issue.message : `Function "${issue.functionName}": ${issue.message}`,
    );
    super(
      'EINVALIDDECLARATION',
      `The local runtime did not start: the declarations have ${issues.length} problem(s). Fix them in the ` +
        `function declarations (src/function.ts of each app) and rebuild:\n${lines.map((line) => `  - ${line}`).join('\n')}`,
      options,
    );
    this.name = 'InvalidDeclarationError';
    this.issues = Object.freeze([...issues]);
  }
}

/** A function's compiled handler module (`entry`) does not exist: it has not been built. */
export class MissingEntryError extends LocalRuntimeError {
  readonly missing: readonly { readonly functionName: string; readonly entry: string }[];

  constructor(missing: readonly { functionName: string; entry: string }[]) {
    super(
      'EMISSINGENTRY',
      `The local runtime did not start: ${missing.length} function(s) have no built handler:\n` +
        missing.map(({ functionName, entry }) => `  - Function "${functionName}": entry ${entry} does not exist.`).join('\n') +
        `\nBuild the handlers first (\`pnpm build\` at the repository root, or \`pnpm --filter <package> build\`), ` +
        'or leave these functions out of the functions you pass.',
    );
    this.name = 'MissingEntryError';
    this.missing = Object.freeze(missing.map((item) => Object.freeze({ ...item })));
  }
}

/** An option of `startLocalApi` or a command-line flag is invalid. */
export class InvalidOptionError extends LocalRuntimeError {
  /** @example 'port' */
  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('EINVALIDOPTION', `Option "${option}": ${message}`, options);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

/** An access point's directory cannot be created, or its user could not reach it. */
export class AccessPointDirectoryError extends LocalRuntimeError {
  readonly directory: string;

  constructor(directory: string, message: string, options?: { cause?: unknown }) {
    super('EACCESSPOINTDIR', message, options);
    this.name = 'AccessPointDirectoryError';
    this.directory = directory;
  }
}

/** The HTTP server could not listen on the address and port asked for. */
export class ListenError extends LocalRuntimeError {
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const hint =
      cause.code === 'EADDRINUSE'
        ? `another process already listens there: stop it, or choose another port (--port, or port: 0 for any free port)`
        : cause.code === 'EACCES'
          ? 'this user may not bind that port: choose a port above 1023'
          : `the system refused (${cause.code ?? cause.message}): check the host address`;
    super('ELISTEN', `Cannot listen on ${host}:${port}: ${hint}.`, { cause });
    this.name = 'ListenError';
    this.host = host;
    this.port = port;
  }
}

/**
 * A deployment package (a function's zip, see `packages`) is missing, cannot be read, breaks a
 * rule of the format (an absolute path, `..`, a link leaving the package, a device…) or has no
 * `handler.mjs` at its root. Nothing was extracted where a function could run it.
 */
export class InvalidPackageError extends LocalRuntimeError {
  /** What is wrong, without the function and path. @example 'has an entry "../x" with ".." in its path' */
  readonly problem: string;
  readonly functionName: string | undefined;
  readonly zipPath: string | undefined;

  constructor(problem: string, options?: { functionName?: string; zipPath?: string; cause?: unknown }) {
    const subject =
      options?.functionName === undefined
        ? 'The deployment package'
        : `Function "${options.functionName}": the deployment package ${options.zipPath ?? ''}`.trimEnd();
    super(
      'EPACKAGE',
      `${subject} ${problem}. Rebuild it with \`pnpm bundle\` (infra's bundler), or serve the function from its built entry instead.`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'InvalidPackageError';
    this.problem = problem;
    this.functionName = options?.functionName;
    this.zipPath = options?.zipPath;
  }
}
