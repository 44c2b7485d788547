// A minimal protobuf encoder for the ONNX messages the model generators need (onnx.proto, IR
// version 8): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto,
// TypeProto, TensorShapeProto, OperatorSetIdProto, StringStringEntryProto. Only encoding; field
// numbers are onnx.proto's. Messages are kept as lists of chunks so a 100 MB model is copied
// once, when it is written, not once per nesting level.

/** Encoded bytes as chunks, with their total length (a length prefix needs no copy). */
export class Chunks {
  readonly parts: Uint8Array[] = [];
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.parts.push(bytes);
    this.length += bytes.byteLength;
  }

  append(other: Chunks): void {
    for (const part of other.parts) this.parts.push(part);
    this.length += other.length;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

function varint(value: bigint | number): Uint8Array {
  // int64 fields: negative values are encoded as their 64-bit two's complement (10 bytes).
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function key(field: number, wire: number): Uint8Array {
  return varint((field << 3) | wire);
}

/** A message under construction: fields are appended in call order. */
export class MessageWriter {
  readonly chunks = new Chunks();

  int(field: number, value: number | bigint): this {
    this.chunks.push(key(field, WIRE_VARINT));
    this.chunks.push(varint(value));
    return this;
  }

  float(field: number, value: number): this {
    const bytes = Buffer.alloc(4);
    bytes.writeFloatLE(value, 0);
    this.chunks.push(key(field, WIRE_FIXED32));
    this.chunks.push(bytes);
    return this;
  }

  double(field: number, value: number): this {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value, 0);
    this.chunks.push(key(field, WIRE_FIXED64));
    this.chunks.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.chunks.push(key(field, WIRE_BYTES));
    this.chunks.push(varint(value.byteLength));
    this.chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, value: MessageWriter): this {
    this.chunks.push(key(field, WIRE_BYTES));
    this.chunks.push(varint(value.chunks.length));
    this.chunks.append(value.chunks);
    return this;
  }

  /** A packed repeated varint field (int64s of `dims`, `ints`). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const body = new Chunks();
    for (const value of values) body.push(varint(value));
    this.chunks.push(key(field, WIRE_BYTES));
    this.chunks.push(varint(body.length));
    this.chunks.append(body);
    return this;
  }

  /** A packed repeated float field (`floats`). */
  packedFloats(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const body = Buffer.alloc(values.length * 4);
    values.forEach((value, index) => body.writeFloatLE(value, index * 4));
    return this.bytes(field, body);
  }
}

/** onnx.proto's TensorProto.DataType values used here. */
export const DataType = Object.freeze({
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  FLOAT16: 10,
});
export type DataTypeValue = (typeof DataType)[keyof typeof DataType];

/** onnx.proto's AttributeProto.AttributeType values. */
const AttributeType = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 });

export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'tensor'; readonly value: TensorSpec };

export interface TensorSpec {
  readonly name: string;
  readonly dataType: DataTypeValue;
  readonly dims: readonly number[];
  /** Little-endian element bytes (TensorProto.raw_data). */
  readonly raw: Uint8Array;
}

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface ValueInfoSpec {
  readonly name: string;
  readonly elemType: DataTypeValue;
  /** A number is a fixed dimension, a string a symbolic one (`dim_param`). */
  readonly shape: readonly (number | string)[];
}

export interface ModelSpec {
  readonly graphName: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly TensorSpec[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
  /** @default 17 */
  readonly opset?: number;
  readonly producer?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** ONNX IR version 8 (ONNX 1.10+): every onnxruntime since 1.10 reads it. */
export const IR_VERSION = 8;
export const DEFAULT_OPSET = 17;

function tensorProto(tensor: TensorSpec): MessageWriter {
  const w = new MessageWriter();
  w.packedInts(1, tensor.dims);
  w.int(2, tensor.dataType);
  w.string(8, tensor.name);
  w.bytes(9, tensor.raw);
  return w;
}

function attributeProto(name: string, attribute: AttributeValue): MessageWriter {
  const w = new MessageWriter().string(1, name);
  switch (attribute.kind) {
    case 'float':
      return w.float(2, attribute.value).int(20, AttributeType.FLOAT);
    case 'int':
      return w.int(3, attribute.value).int(20, AttributeType.INT);
    case 'string':
      return w.string(4, attribute.value).int(20, AttributeType.STRING);
    case 'tensor':
      return w.message(5, tensorProto(attribute.value)).int(20, AttributeType.TENSOR);
    case 'floats':
      return w.packedFloats(7, attribute.value).int(20, AttributeType.FLOATS);
    case 'ints':
      return w.packedInts(8, attribute.value).int(20, AttributeType.INTS);
  }
}

function nodeProto(node: NodeSpec): MessageWriter {
  const w = new MessageWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name !== undefined) w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, attribute] of Object.entries(node.attributes ?? {})) w.message(5, attributeProto(name, attribute));
  return w;
}

function valueInfoProto(info: ValueInfoSpec): MessageWriter {
  const shape = new MessageWriter();
  for (const dim of info.shape) {
    const d = new MessageWriter();
    if (typeof dim === 'number') d.int(1, dim);
    else d.string(2, dim);
    shape.message(1, d);
  }
  const tensorType = new MessageWriter().int(1, info.elemType).message(2, shape);
  const type = new MessageWriter().message(1, tensorType);
  return new MessageWriter().string(1, info.name).message(2, type);
}

/** Encodes a whole ModelProto. */
export function encodeModel(spec: ModelSpec): Chunks {
  const graph = new MessageWriter();
  for (const node of spec.nodes) graph.message(1, nodeProto(node));
  graph.string(2, spec.graphName);
  for (const tensor of spec.initializers) graph.message(5, tensorProto(tensor));
  if (spec.docString !== undefined) graph.string(10, spec.docString);
  for (const input of spec.inputs) graph.message(11, valueInfoProto(input));
  for (const output of spec.outputs) graph.message(12, valueInfoProto(output));

  const model = new MessageWriter();
  model.int(1, IR_VERSION);
  model.string(2, spec.producer ?? '@lambda-efs/ml-inference');
  model.string(3, '1');
  model.message(7, graph);
  model.message(8, new MessageWriter().string(1, '').int(2, spec.opset ?? DEFAULT_OPSET));
  for (const [k, v] of Object.entries(spec.metadata ?? {})) model.message(14, new MessageWriter().string(1, k).string(2, v));
  return model.chunks;
}

// Attribute helpers, so graph code reads like the ONNX operator docs.
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  tensor: (value: TensorSpec): AttributeValue => ({ kind: 'tensor', value }),
};

/** A float32 tensor from values (copied, little-endian). */
export function floatTensor(name: string, dims: readonly number[], values: Float32Array | readonly number[]): TensorSpec {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  expectElements(name, dims, data.length);
  return { name, dataType: DataType.FLOAT, dims, raw: littleEndianBytes(data) };
}

/** An int64 tensor (shapes for Reshape). */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorSpec {
  expectElements(name, dims, values.length);
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((value, index) => raw.writeBigInt64LE(BigInt(value), index * 8));
  return { name, dataType: DataType.INT64, dims, raw };
}

function expectElements(name: string, dims: readonly number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) throw new Error(`Tensor ${name}: dims ${dims.join('×')} need ${expected} values, got ${count}.`);
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  // Every platform Node.js supports for this project (x86_64, arm64) is little-endian.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
