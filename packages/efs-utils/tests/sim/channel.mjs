// A synchronous, ordered message channel between two threads over one SharedArrayBuffer per
// direction (JSON, with bytes as base64). MessagePort + receiveMessageOnPort was tried first:
// a woken receiver sometimes found the message not yet enqueued.
const HEADER = 8;

export function createLane(bytes = 4 << 20) {
  return new SharedArrayBuffer(HEADER + bytes);
}

const replacer = (_key, value) => {
  if (value && typeof value === 'object' && value.type === 'Buffer' && Array.isArray(value.data))
    return { $b: Buffer.from(value.data).toString('base64') };
  if (value instanceof Uint8Array) return { $b: Buffer.from(value).toString('base64') };
  return value;
};
const reviver = (_key, value) =>
  value && typeof value === 'object' && typeof value.$b === 'string' ? Buffer.from(value.$b, 'base64') : value;

export function send(lane, message) {
  const state = new Int32Array(lane, 0, 2);
  const payload = Buffer.from(JSON.stringify(message, replacer), 'utf8');
  const body = new Uint8Array(lane, HEADER);
  if (payload.length > body.length) throw new Error(`message of ${payload.length} bytes does not fit the lane`);
  // The previous message must have been taken.
  while (Atomics.load(state, 0) !== 0) Atomics.wait(state, 0, 1, 50);
  body.set(payload);
  Atomics.store(state, 1, payload.length);
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
}

export function recv(lane, timeoutMs = Infinity) {
  const state = new Int32Array(lane, 0, 2);
  // A notify meant for a blocked sender wakes a receiver too: wait until there is a message.
  while (Atomics.load(state, 0) === 0) {
    if (Atomics.wait(state, 0, 0, timeoutMs) === 'timed-out') throw new Error(`no message within ${timeoutMs} ms`);
  }
  const length = Atomics.load(state, 1);
  const text = Buffer.from(new Uint8Array(lane, HEADER, length)).toString('utf8');
  Atomics.store(state, 0, 0);
  Atomics.notify(state, 0);
  return JSON.parse(text, reviver);
}
