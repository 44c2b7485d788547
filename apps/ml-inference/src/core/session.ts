// One onnxruntime inference session: created from a model file with the function's thread count,
// its input and output checked against model.json and the labels, and run on one image at a time.
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';

import type { InferenceSession } from 'onnxruntime-node';

import { InferenceError, ModelInvalidError } from '../errors.js';
import type { ModelConfig } from './model-config.js';
import type { Ort } from './native.js';

export interface SessionSettings {
  /** Intra-op threads (the function's vCPUs). */
  readonly threads: number;
  /**
   * The bytes are an `optimized/` cache entry: a graph onnxruntime already optimized for this CPU
   * class. It is loaded without optimizing again.
   */
  readonly preoptimized: boolean;
  /**
   * Also write the graph onnxruntime optimized (level "all", for this CPU class) into this
   * directory, as {@link OPTIMIZED_FILES}: model:install does, and so does the function when its
   * CPU class has no cache entry yet.
   */
  readonly saveOptimizedTo?: string;
}

/**
 * An optimized graph is a directory `optimized/<key>/` of two files: the graph (ONNX, small) and
 * its weights in an external-initializers file. onnxruntime memory-maps that file when it loads
 * the graph from a path, so the weights are used in place in the page cache: a cold start does not
 * copy 96 MB into fresh memory two or three times (Node's read, protobuf's parse, the tensors),
 * which on Lambda's Firecracker VMs costs ~3 ms per MB touched. ONNX and not onnxruntime's ORT
 * format: the ORT format memory-mapped (`session.use_memory_mapped_ort_model`) saves as much, but
 * the ONNX pair needs no extra option and stays readable by any ONNX tool.
 */
export const OPTIMIZED_FILES = Object.freeze({ graph: 'model.onnx', weights: 'model.onnx.data' });

/** A loaded model's session, checked against its configuration and labels. */
export interface ModelSession {
  readonly inputName: string;
  readonly outputName: string;
  /** Runs one input tensor and returns the scores (one per label). */
  run(data: Float32Array, dims: readonly number[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/**
 * onnxruntime options for the function: sequential execution, `threads` intra-op threads that do
 * not spin between tasks. Spinning buys nothing measurable on a quiet machine, but where the vCPUs
 * are shared it takes them from the other thread: on this project's loaded 2-core VM a ResNet-50
 * int8 inference took 1.05 s spinning and 0.54 s without (BENCHMARKS.md).
 */
export function sessionOptions(settings: SessionSettings): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: settings.preoptimized ? 'disabled' : 'all',
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
    extra: {
      session: {
        'intra_op.allow_spinning': '0',
        // Relative to the graph; every initializer of 1 KiB or more goes there, page-aligned.
        ...(settings.saveOptimizedTo === undefined ? {} : { optimized_model_external_initializers_file_name: OPTIMIZED_FILES.weights }),
      },
    },
    ...(settings.saveOptimizedTo === undefined ? {} : { optimizedModelFilePath: join(settings.saveOptimizedTo, OPTIMIZED_FILES.graph) }),
  };
}

/**
 * The CPU class an optimized graph is valid for. onnxruntime's "all" level rewrites convolutions
 * into blocked (NCHWc) layouts whose block size depends on the CPU (16 floats with AVX-512F, 8
 * with AVX2), and the saved graph bakes that in, so a cached graph is reused only on the same
 * onnxruntime version, architecture and vector extension. Empty when unknown (no cache then).
 */
export function cpuClass(cpuinfo: () => string = () => readFileSync('/proc/cpuinfo', 'utf8')): string {
  const machine = arch();
  if (machine !== 'x64') return machine === 'arm64' ? 'arm64' : '';
  let flags: Set<string>;
  try {
    const line = cpuinfo()
      .split('\n')
      .find((l) => l.startsWith('flags'));
    flags = new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
  } catch {
    return '';
  }
  if (flags.has('avx512f')) return 'x64-avx512';
  if (flags.has('avx2') && flags.has('fma')) return 'x64-avx2';
  if (flags.has('avx')) return 'x64-avx';
  return 'x64-sse';
}

/** The cache key of an optimized graph: `optimized/<key>/`. */
export function optimizedModelKey(ortVersion: string, cpu: string): string | undefined {
  if (cpu === '' || ortVersion === 'unknown') return undefined;
  return `ort-${ortVersion}-${cpu}`;
}

type Dim = number | string;

/**
 * Creates a session from a model file (onnxruntime reads it, memory-mapping external weights) or
 * from bytes, and checks it: the input is float32 of rank 4 whose fixed
 * dimensions match the layout and crop of model.json, and the output has one score per label.
 * Throws {@link ModelInvalidError} (503) with what is wrong and how to fix it.
 */
export async function createModelSession(
  ort: Ort,
  model: string | Uint8Array,
  config: ModelConfig,
  labelCount: number,
  settings: SessionSettings,
  where: string,
): Promise<ModelSession> {
  let session: InferenceSession;
  try {
    session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions(settings))
        : await ort.InferenceSession.create(model, sessionOptions(settings));
  } catch (error) {
    throw new ModelInvalidError(`${where}: onnxruntime cannot load the model (${firstLine(error)}). Install a valid ONNX model.`, {
      cause: error,
    });
  }
  try {
    const checked = checkSignature(session, config, labelCount, where);
    const model: ModelSession = {
      inputName: checked.inputName,
      outputName: checked.outputName,
      run: (data, dims) => runOnce(ort, session, checked.inputName, checked.outputName, data, dims, labelCount),
      dispose: () => session.release(),
    };
    if (checked.needsTrialRun) await trialRun(model, config, where);
    return model;
  } catch (error) {
    await session.release().catch(() => undefined);
    throw error;
  }
}

interface Signature {
  readonly inputName: string;
  readonly outputName: string;
  /** The label dimension is symbolic: one run with a blank image tells its size. */
  readonly needsTrialRun: boolean;
}

function checkSignature(session: InferenceSession, config: ModelConfig, labelCount: number, where: string): Signature {
  const inputs = session.inputNames;
  const outputs = session.outputNames;
  let inputName = config.input;
  if (inputName === undefined) {
    if (inputs.length !== 1) {
      throw new ModelInvalidError(
        `${where}: the model has ${inputs.length} inputs (${inputs.join(', ')}); name the image input in model.json ("input").`,
      );
    }
    inputName = inputs[0] as string;
  } else if (!inputs.includes(inputName)) {
    throw new ModelInvalidError(
      `${where}: model.json names input "${inputName}", but the model's inputs are ${inputs.join(', ')}. Fix "input" in model.json.`,
    );
  }
  const outputName = config.output ?? outputs[0];
  if (outputName === undefined || !outputs.includes(outputName)) {
    throw new ModelInvalidError(
      `${where}: model.json names output "${String(outputName)}", but the model's outputs are ${outputs.join(', ')}. Fix "output" in model.json.`,
    );
  }

  const input = session.inputMetadata[inputs.indexOf(inputName)];
  if (input !== undefined && input.isTensor) {
    if (input.type !== 'float32') {
      throw new ModelInvalidError(
        `${where}: input "${inputName}" is ${input.type}; this function feeds float32 images. Export the model with a float32 input.`,
      );
    }
    const expected: Dim[] =
      config.layout === 'NCHW' ? [1, 3, config.crop.height, config.crop.width] : [1, config.crop.height, config.crop.width, 3];
    const shape = input.shape as readonly Dim[];
    const fits = shape.length === 4 && shape.every((dim, i) => typeof dim !== 'number' || dim === expected[i]);
    if (!fits) {
      throw new ModelInvalidError(
        `${where}: input "${inputName}" has shape [${shape.join(', ')}], but model.json (layout ${config.layout}, crop ${config.crop.width}×${config.crop.height}) feeds [${expected.join(', ')}]. ` +
          'Fix "layout" and "crop" in model.json, or export the model for that shape.',
      );
    }
  }

  const output = session.outputMetadata[outputs.indexOf(outputName)];
  let needsTrialRun = true;
  if (output !== undefined && output.isTensor) {
    const shape = output.shape as readonly Dim[];
    const classes = shape[shape.length - 1];
    const leading = shape.slice(0, -1);
    if (shape.length === 0 || leading.some((dim) => typeof dim === 'number' && dim !== 1)) {
      throw new ModelInvalidError(
        `${where}: output "${outputName}" has shape [${shape.join(', ')}]; expected [1, classes] or [classes]. Name the class-score output in model.json ("output").`,
      );
    }
    if (typeof classes === 'number') {
      if (classes !== labelCount) {
        throw new ModelInvalidError(
          `${where}: labels.txt has ${labelCount} labels but output "${outputName}" has ${classes} classes. Install the labels that belong to this model (one per line, in class order).`,
        );
      }
      needsTrialRun = false;
    }
  }
  return { inputName, outputName, needsTrialRun };
}

async function trialRun(model: ModelSession, config: ModelConfig, where: string): Promise<void> {
  const { width, height } = config.crop;
  const dims = config.layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
  try {
    await model.run(new Float32Array(3 * width * height), dims);
  } catch (error) {
    if (error instanceof ModelInvalidError) throw error;
    throw new ModelInvalidError(
      `${where}: a trial run on a blank image failed (${firstLine(error)}). Check that model.json matches the model.`,
      { cause: error },
    );
  }
}

async function runOnce(
  ort: Ort,
  session: InferenceSession,
  inputName: string,
  outputName: string,
  data: Float32Array,
  dims: readonly number[],
  labelCount: number,
): Promise<Float32Array> {
  let results: InferenceSession.ReturnType;
  try {
    results = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) }, [outputName]);
  } catch (error) {
    throw new InferenceError(`onnxruntime failed to run the model: ${firstLine(error)}`, { cause: error });
  }
  const output = results[outputName];
  if (output === undefined || !(output.data instanceof Float32Array)) {
    throw new InferenceError(`The model's output "${outputName}" is not float32 scores.`);
  }
  if (output.data.length !== labelCount) {
    throw new ModelInvalidError(
      `The model's output "${outputName}" has ${output.data.length} scores but labels.txt has ${labelCount} labels. Install the labels that belong to this model.`,
    );
  }
  return output.data;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).slice(0, 300);
}
