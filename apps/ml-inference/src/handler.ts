// The Lambda entry (`dist/handler.js`, export `handler`): a thin adapter from API Gateway HTTP API
// events to the classifier. It parses the event, gets the model (one cheap check per request),
// fetches or decodes the image, calls the core, and maps typed errors to JSON error answers. The
// model and native libraries are loaded during init, so provisioned environments start ready.
import { loadConfig, type MlInferenceConfig } from './config.js';
import { addressCheck, type AddressCheck } from './core/address-policy.js';
import { classifyImage } from './core/classify.js';
import { warmUpDecoder } from './core/preprocess.js';
import { fetchImage, type Resolver } from './core/fetch-image.js';
import { ModelStore } from './core/model-store.js';
import { loadNativeLibraries, peekOnnxruntimeVersion, type NativeLibraries } from './core/native.js';
import { HOP_HEADER, MlInferenceError } from './errors.js';
import {
  METHOD_NOT_ALLOWED,
  ownApiMatcher,
  parseClassifyRequest,
  type HttpApiEventV2,
  type HttpApiResultV2,
  type InvocationContext,
} from './http.js';
import { errorFields, functionLog, httpFunction, jsonResponse, since, type HttpRequest, type LogSink } from '@lambda-efs/lambda-http';

export type { HttpApiEventV2, HttpApiResultV2, InvocationContext } from './http.js';

/** Time kept back from the invocation's deadline so a slow fetch still gets an answer. */
export const DEADLINE_MARGIN_MS = 1_000;

/** Init budget for loading the model before the first request (Lambda's init phase is 10 s). */
export const INIT_BUDGET_MS = 8_000;

export interface Handler {
  (event: HttpApiEventV2 | unknown, context?: InvocationContext): Promise<HttpApiResultV2>;
  /**
   * Loads the native libraries and the model ahead of the first request, within `budgetMs`
   * (default {@link INIT_BUDGET_MS}; the rest goes on in the background), and with `warmUp` runs
   * one blank image through the model so that the first request is as fast as the next ones.
   * Never throws: the first request reports any failure.
   */
  prepare(options?: { readonly budgetMs?: number; readonly warmUp?: boolean }): Promise<void>;
  /** The model store (tests look at what is loaded). */
  readonly store: ModelStore;
  /** Releases the model's session. */
  close(): Promise<void>;
}

export interface HandlerOptions {
  readonly config: MlInferenceConfig;
  /** @default lambda-http's function log (JSON lines with Powertools' keys) */
  readonly log?: LogSink;
  /** DNS for image URLs. @default the system resolver */
  readonly resolve?: Resolver;
  /** Which addresses may be fetched. @default public ones (plus private networks when the config allows them) */
  readonly checkAddress?: AddressCheck;
  /** @default loadNativeLibraries from NODE_MODULES_DIR or the bundle */
  readonly libraries?: () => NativeLibraries;
}

/**
 * Builds the handler over a configuration (tests pass one on a temporary directory).
 * @example
 * const handler = createHandler({ config: loadConfig(process.env) });
 */
export function createHandler(options: HandlerOptions): Handler {
  const { config } = options;
  const log = options.log ?? functionLog;
  let native: NativeLibraries | undefined;
  const libraries =
    options.libraries ??
    ((): NativeLibraries => {
      native ??= loadNativeLibraries({ nodeModulesDir: config.nodeModulesDir, threads: config.threads, allowSvg: config.allowSvg });
      return native;
    });
  const store = new ModelStore({
    modelDir: config.modelDir,
    modelName: config.modelName,
    threads: config.threads,
    libraries,
    ...(options.libraries === undefined ? { onnxruntimeVersion: () => peekOnnxruntimeVersion(config.nodeModulesDir) } : {}),
    log: (level, message, fields) => log({ level, requestId: 'init', message, ...fields }),
  });
  const checkAddress = options.checkAddress ?? addressCheck(config.allowPrivateNetworks);
  let requests = 0;

  const classify = async (request: HttpRequest): Promise<HttpApiResultV2> => {
    request.annotate({ cold: requests === 0 });
    requests += 1;
    const parsed = parseClassifyRequest(request, config.maxImageBytes);
    request.annotate({ top: parsed.top });
    const lease = await store.acquire();
    try {
      const { model } = lease;
      request.annotate({ model: model.name, version: model.version, ...(lease.loadedNow ? { modelLoad: model.stats } : {}) });
      let bytes: Buffer;
      let what: string;
      if (parsed.kind === 'url') {
        const fetchStart = performance.now();
        const fetched = await fetchImage(parsed.url, {
          checkAddress,
          allowedHosts: config.allowedHosts,
          timeoutMs: Math.max(100, Math.min(config.fetchTimeoutMs, request.budgetMs() ?? Number.POSITIVE_INFINITY)),
          maxBytes: config.maxImageBytes,
          maxRedirects: config.maxRedirects,
          // Deployed: the ports the security group lets out (80, 443), so another is a 400, not a timeout.
          allowedPorts: config.allowedPorts,
          isOwnApi: ownApiMatcher(request.event),
          // Bounds nesting whatever the URL's spelling: a classifier refuses a request that carries it.
          headers: { [HOP_HEADER]: '1' },
          ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
        });
        bytes = fetched.bytes;
        what = `The image at ${fetched.url}`;
        request.annotate({ fetchMs: since(fetchStart), redirects: fetched.redirects, host: new URL(fetched.url).host });
      } else {
        bytes = parsed.bytes;
        what = 'The uploaded image';
      }
      request.annotate({ imageBytes: bytes.length });
      const { classification, timings } = await classifyImage(model, bytes, {
        top: parsed.top,
        maxPixels: config.maxImagePixels,
        allowSvg: config.allowSvg,
        what,
      });
      request.annotate({ ...timings, label: classification.bird_class });
      return jsonResponse(200, classification, { 'x-model-version': `${model.name}/${model.version}` });
    } finally {
      lease.release();
    }
  };

  const handle = httpFunction({
    routes: { GET: classify, POST: classify },
    errorFormat: 'json',
    example: 'curl "https://<api>/ml-inference?url=https://example.com/bird.jpg"',
    methodNotAllowedMessage: METHOD_NOT_ALLOWED,
    internalMessage: (requestId) =>
      `Internal error: the image could not be classified. Retry with backoff; if it keeps failing, report request id ${requestId}.`,
    deadlineMarginMs: DEADLINE_MARGIN_MS,
    ...(options.log === undefined ? {} : { log: options.log }),
  });

  const prepare = async (prepareOptions: { readonly budgetMs?: number; readonly warmUp?: boolean } = {}): Promise<void> => {
    const startedAt = performance.now();
    const warm = (async (): Promise<void> => {
      try {
        const lease = await store.acquire();
        try {
          if (prepareOptions.warmUp === true) {
            // The first run allocates onnxruntime's memory arena: pay it now, not on a request.
            await warmUpDecoder(lease.model.libraries.sharp, lease.model.config);
            const { layout, crop } = lease.model.config;
            const dims = layout === 'NCHW' ? [1, 3, crop.height, crop.width] : [1, crop.height, crop.width, 3];
            await lease.model.session.run(new Float32Array(3 * crop.width * crop.height), dims);
          }
        } finally {
          lease.release();
        }
        log({
          level: 'INFO',
          requestId: 'init',
          message: 'model ready',
          model: lease.model.name,
          version: lease.model.version,
          warmedUp: prepareOptions.warmUp === true,
          initMs: since(startedAt),
        });
      } catch (error) {
        const fields = error instanceof MlInferenceError ? { code: error.code, reason: error.message } : { error: errorFields(error) };
        log({ level: 'WARN', requestId: 'init', message: 'model not ready at init; requests will report why', ...fields });
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, prepareOptions.budgetMs ?? INIT_BUDGET_MS);
      timer.unref();
    });
    await Promise.race([warm, budget]);
    clearTimeout(timer);
  };

  return Object.assign(handle, { prepare, store, close: () => store.close() });
}

/** The function's entry: configured from the environment once, at cold start. */
export const handler: Handler = createHandler({ config: loadConfig(process.env) });

// In a Lambda execution environment (AWS's or the local runtime's), load the model during init.
// Provisioned environments initialize ahead of traffic, so they also run one blank image through
// the model: their first request is then a warm one. On-demand ones skip that run: their first
// request follows at once, and a blank run would only add its time to the cold start.
if (process.env['AWS_LAMBDA_FUNCTION_NAME'] !== undefined) {
  await handler.prepare({ warmUp: process.env['AWS_LAMBDA_INITIALIZATION_TYPE'] === 'provisioned-concurrency' });
}
