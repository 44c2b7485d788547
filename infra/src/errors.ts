/**
 * One error hierarchy for the package. Every error has a stable `code`, so callers (the CLIs, the
 * tests) can branch without `instanceof`, and a message that says what to do.
 */
export type InfraErrorCode =
  'EINFRACONFIG' | 'EMISSINGENTRY' | 'EBUNDLE' | 'ENATIVEMODULES' | 'ETERRAFORMMISSING' | 'ETERRAFORM' | 'EUSAGE';

/** Base class of every error this package throws. */
export class InfraError extends Error {
  readonly code: InfraErrorCode;

  constructor(code: InfraErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraError';
    this.code = code;
  }
}

/** The stack configuration breaks one or more rules; every problem is listed. */
export class InfraConfigError extends InfraError {
  /** One sentence per problem, each naming the field. Never empty. */
  readonly problems: readonly string[];

  constructor(subject: string, problems: readonly string[]) {
    const message =
      problems.length === 1
        ? `${subject}: ${problems[0] ?? ''}`
        : `${subject} has ${problems.length} problems:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`;
    super('EINFRACONFIG', message);
    this.name = 'InfraConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/** A function's `entry` (its compiled handler) does not exist yet: the app was not built. */
export class MissingEntryError extends InfraError {
  readonly functionName: string;
  readonly entry: string;
  readonly buildCommand: string;

  constructor(functionName: string, entry: string, buildCommand: string) {
    super(
      'EMISSINGENTRY',
      `Function "${functionName}": its handler ${entry} does not exist. Build it first with \`${buildCommand}\`, ` +
        'then synthesize again (or set LAMBDA_EFS_ONLY_BUILT=1 to leave out functions that are not built yet).',
    );
    this.name = 'MissingEntryError';
    this.functionName = functionName;
    this.entry = entry;
    this.buildCommand = buildCommand;
  }
}

/**
 * A function's deployment package cannot be built: esbuild failed, the bundle imports something
 * the package will not have, or the package breaks Lambda's size limits.
 */
export class BundleError extends InfraError {
  readonly functionName: string;

  /** `hint` (what to do) replaces the default advice about imports. */
  constructor(functionName: string, details: string, options?: { cause?: unknown; hint?: string }) {
    super(
      'EBUNDLE',
      `Function "${functionName}": bundling failed: ${details}. ` +
        (options?.hint ??
          "Fix the import; a package with native addons goes in the declaration's nativeModules (function-spec), " +
            'a module the Lambda runtime provides in config.functions.externalModules.'),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'BundleError';
    this.functionName = functionName;
  }
}

/** The native modules of a platform cannot be gathered from the workspace's node_modules. */
export class NativeModulesError extends InfraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENATIVEMODULES', `Native modules: ${message}`, options);
    this.name = 'NativeModulesError';
  }
}

/** No `terraform` executable on PATH. */
export class TerraformNotFoundError extends InfraError {
  constructor() {
    super(
      'ETERRAFORMMISSING',
      'terraform was not found on PATH. Install Terraform >= 1.10 (1.11.4 is what CI uses) from ' +
        'https://developer.hashicorp.com/terraform/install (or your package manager: `brew install terraform`, ' +
        "HashiCorp's apt repository) and make sure `terraform version` works in this shell.",
    );
    this.name = 'TerraformNotFoundError';
  }
}

/** A terraform command exited with a non-zero status. */
export class TerraformCommandError extends InfraError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly output: string;

  constructor(command: string, exitCode: number | null, output: string) {
    super('ETERRAFORM', `\`${command}\` failed (exit code ${String(exitCode)}). Its output ends with:\n${tail(output, 40)}`);
    this.name = 'TerraformCommandError';
    this.command = command;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** A command-line tool of this package was called with wrong arguments. */
export class UsageError extends InfraError {
  constructor(message: string) {
    super('EUSAGE', message);
    this.name = 'UsageError';
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
