// ONNX model generators for development: the demo model (dominant colour), the ResNet-50-shaped
// benchmark model and the protobuf writer they share. Used by ml-inference's model:demo and
// model:generate commands, benchmarks and tests, and by infra at synth; never by a Lambda handler.
export { calibrateResNet, calibrationInputs, type Ort } from './calibrate.js';
export {
  buildDemoModel,
  demoExpectedProbabilities,
  DEMO_LABELS,
  DEMO_PROTOTYPES,
  DEMO_SHARPNESS,
  DEMO_VERSION,
  type DemoModelOptions,
} from './demo-model.js';
export { modelJsonText, POST_MEAN, POST_PREPROCESSING, POST_STD, type ModelJson } from './model-json.js';
export * from './proto.js';
export {
  buildResNet,
  mulberry32,
  toHalf,
  uint8Quantization,
  type ActivationRange,
  type ResNetOptions,
  type WeightStorage,
} from './resnet.js';
export {
  CALIBRATION_INPUTS,
  writeChunks,
  writeDemoModel,
  writeResNetModel,
  type GeneratedKind,
  type GeneratedModel,
} from './write-model.js';
