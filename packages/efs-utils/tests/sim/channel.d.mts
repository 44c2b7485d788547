export function createLane(bytes?: number): SharedArrayBuffer;
export function send(lane: SharedArrayBuffer, message: unknown): void;
export function recv(lane: SharedArrayBuffer, timeoutMs?: number): unknown;
