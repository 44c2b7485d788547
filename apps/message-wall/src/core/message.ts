import { ControlCharacterError, EmptyMessageError, InvalidBodyError, MessageTooLargeError, MultilineMessageError } from '../errors.js';

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LINE_BREAK = /[\n\r]/;
// C0 controls except TAB (LF and CR are reported as line breaks first), DEL, and C1 controls.
// Refusing them keeps walls printable in a terminal, and bounds JSON escaping of a wall to "\"" and
// "\\" (2 bytes each), which MAX_SAFE_WALL_BYTES relies on.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/;

/**
 * Checks that `message` can be stored as one line of the wall and returns its size in UTF-8
 * bytes. The text is stored as given: no trimming, no normalization.
 * @throws {MessageTooLargeError} over `maxBytes`
 * @throws {EmptyMessageError} empty or whitespace only
 * @throws {MultilineMessageError} contains LF or CR
 * @throws {ControlCharacterError} contains another control character
 * @throws {InvalidBodyError} contains a lone surrogate (not encodable as UTF-8)
 */
export function checkMessage(message: string, maxBytes: number): number {
  if (LONE_SURROGATE.test(message)) {
    throw new InvalidBodyError('Message is not valid Unicode (it contains a lone surrogate). Send the message as UTF-8 text.');
  }
  const bytes = Buffer.byteLength(message, 'utf8');
  if (bytes > maxBytes) throw new MessageTooLargeError(bytes, maxBytes);
  if (message.trim() === '') throw new EmptyMessageError();
  if (LINE_BREAK.test(message)) throw new MultilineMessageError();
  const control = CONTROL.exec(message);
  if (control !== null) throw new ControlCharacterError(control[0].codePointAt(0) ?? 0);
  return bytes;
}
