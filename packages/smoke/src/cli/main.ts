// `pnpm smoke <base-url> [options]`: parses the command line, runs the session, prints the table
// (stdout) and each failure (stderr). Exit status: 0 every step passed, 1 a step failed, 2 the
// smoke test could not run (bad option, unreadable image).
import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { ImageError, SmokeError, UsageError } from '../errors.js';
import { failureLines, formatReport, type ReportFormat } from '../report.js';
import { DEFAULT_TIMEOUT_MS, runSmoke, type ClassExpectation, type SmokeImage } from '../session.js';
import { createSigner, SIGN_MODES, type SignMode } from '../signing.js';

/** The committed sample: mostly red, which the demo model classifies "red" (scripts/make-sample.mjs made it). */
export const SAMPLE_IMAGE = fileURLToPath(new URL('../../fixtures/sample.jpg', import.meta.url));

/** What the demo model answers for {@link SAMPLE_IMAGE}. */
export const SAMPLE_EXPECTATION: ClassExpectation = { label: 'red', model: 'demo' };

/**
 * Largest upload: API Gateway base64-encodes an image body, and Lambda takes at most 6 MB
 * (6,291,456 bytes) of event, so about 4.5 MiB of image is the real ceiling.
 */
export const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

export const USAGE = `Usage: pnpm smoke <base-url> [options]

Runs the post's message-wall session on a fresh wall of its own (/message-wall/smoke-<time>-<random>),
checks the 405, classifies one uploaded image, and fetches the web page (GET /) and its script;
prints every step with its timing.

  <base-url>              the API, e.g. https://abc123.execute-api.us-east-1.amazonaws.com
                          (the stack's api_url output) or http://127.0.0.1:3000 (pnpm start)
  --format text|markdown  the table's format (markdown for $GITHUB_STEP_SUMMARY)   [default: text]
  --timeout <ms>          longest wait for each answer, in ms (or 40s)              [default: ${DEFAULT_TIMEOUT_MS}]
  --image <file>          the image to classify (JPEG, PNG, WebP, GIF, AVIF, TIFF)  [default: the committed sample]
  --expect-class <label>  the bird_class it must get     [default for the sample: "red" when the model is demo]
  --skip-ml               leave the classification out
  --skip-web              leave the web page and its script out
  --sign auto|always|never  sign the DELETE requests (SigV4, execute-api) with AWS_ACCESS_KEY_ID,
                          AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN: prod's DELETE needs it.
                          auto: for an https URL when those are set             [default: auto]
  -h, --help              this text

Exit status: 0 every step passed; 1 a step failed (each failure named on stderr); 2 bad usage.
A 500 or 503 from the classification (a cold start loading the model) is retried twice, after 1 s and 3 s.
`;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The directory relative paths are resolved from (pnpm scripts run in the package or root directory). */
  readonly cwd: string;
  /**
   * Running in GitHub Actions (`GITHUB_ACTIONS=true`): each failure is also written as an `::error`
   * workflow command, so the run's page shows it as an annotation. @default false
   */
  readonly githubActions?: boolean;
  /** Where AWS credentials and region are read from (--sign). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Settings from the command line. */
export interface SmokeCliSettings {
  readonly baseUrl: string;
  readonly format: ReportFormat;
  readonly timeoutMs: number;
  readonly imagePath: string;
  readonly skipMl: boolean;
  /** When to sign the DELETE requests. */
  readonly sign: SignMode;
  readonly skipWeb: boolean;
  readonly expectClass: ClassExpectation | undefined;
}

/** Parses the command line. `null` means --help. @throws {UsageError} */
export function parseSmokeArgs(argv: readonly string[], cwd: string): SmokeCliSettings | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        timeout: { type: 'string' },
        image: { type: 'string' },
        'expect-class': { type: 'string' },
        'skip-ml': { type: 'boolean' },
        sign: { type: 'string' },
        'skip-web': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return null;
  if (positionals.length !== 1 || positionals[0] === undefined || positionals[0] === '') {
    throw new UsageError(
      `Pass exactly one base URL (got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}).\n\n${USAGE}`,
    );
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'markdown') throw new UsageError(`--format is text or markdown, not ${JSON.stringify(format)}.`);
  const timeoutMs = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseTimeout(values.timeout);
  const sign = SIGN_MODES.find((mode) => mode === (values.sign ?? 'auto'));
  if (sign === undefined) throw new UsageError(`--sign is ${SIGN_MODES.join(', ')}, not ${JSON.stringify(values.sign)}.`);
  if (values['skip-ml'] === true && (values.image !== undefined || values['expect-class'] !== undefined)) {
    throw new UsageError('--skip-ml leaves the classification out: drop --image and --expect-class, or --skip-ml.');
  }
  const imagePath = values.image === undefined ? SAMPLE_IMAGE : resolve(cwd, values.image);
  const expectClass =
    values['expect-class'] !== undefined ? { label: values['expect-class'] } : imagePath === SAMPLE_IMAGE ? SAMPLE_EXPECTATION : undefined;
  return {
    baseUrl: positionals[0],
    format,
    timeoutMs,
    imagePath,
    skipMl: values['skip-ml'] === true,
    skipWeb: values['skip-web'] === true,
    expectClass,
    sign,
  };
}

function parseTimeout(value: string): number {
  const match = /^(\d+)(ms|s)?$/.exec(value.trim());
  const amount = match === null ? Number.NaN : Number(match[1]) * (match[2] === 's' ? 1000 : 1);
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > 600_000) {
    throw new UsageError(
      `--timeout is a number of milliseconds from 1 to 600000 (or seconds with "s": 40s), not ${JSON.stringify(value)}.`,
    );
  }
  return amount;
}

/** Reads the image to upload. @throws {ImageError} */
export function readImage(path: string): SmokeImage {
  const contentType = CONTENT_TYPES[extname(path).toLowerCase()];
  if (contentType === undefined) {
    throw new ImageError(
      `${path}: not an image the function takes by its name (${Object.keys(CONTENT_TYPES).join(' ')}). Pass a JPEG, PNG, WebP, GIF, AVIF or TIFF file.`,
    );
  }
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new ImageError(
      `Cannot read the image ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): pass an existing file with --image.`,
      { cause: error },
    );
  }
  if (size === 0) throw new ImageError(`The image ${path} is empty: pass a real image with --image.`);
  if (size > MAX_IMAGE_BYTES) {
    throw new ImageError(
      `The image ${path} has ${size} bytes; uploads above ${MAX_IMAGE_BYTES} bytes do not fit in Lambda's 6 MB event once base64-encoded. Pass a smaller image.`,
    );
  }
  const name = path === SAMPLE_IMAGE ? 'sample.jpg' : (path.split(/[\\/]/).pop() ?? path);
  return { bytes: readFileSync(path), contentType, name };
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const settings = parseSmokeArgs(argv, io.cwd);
    if (settings === null) {
      io.stdout(USAGE);
      return 0;
    }
    const image = settings.skipMl ? undefined : readImage(settings.imagePath);
    const signing = createSigner(settings.sign, settings.baseUrl, io.env ?? process.env);
    if (signing.signer !== null) io.stderr(`smoke: ${signing.description}\n`);
    const report = await runSmoke({
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      skipMl: settings.skipMl,
      ...(signing.signer === null ? {} : { signer: signing.signer }),
      skipWeb: settings.skipWeb,
      ...(image === undefined ? {} : { image }),
      ...(settings.expectClass === undefined ? {} : { expectClass: settings.expectClass }),
      onProgress: (line) => io.stderr(`smoke: ${line}\n`),
    });
    io.stdout(formatReport(report, settings.format));
    for (const line of failureLines(report)) {
      io.stderr(io.githubActions === true ? `::error title=Smoke test failed::${escapeWorkflowData(line)}\n` : `${line}\n`);
    }
    return report.passed ? 0 : 1;
  } catch (error) {
    if (error instanceof SmokeError) {
      io.stderr(`smoke: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** A workflow command's message: `%`, CR and LF escaped as GitHub's toolkit does. */
export function escapeWorkflowData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
