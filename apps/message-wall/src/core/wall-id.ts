import { InvalidWallIdError } from '../errors.js';

/**
 * A per-user wall's id: 1 to 64 letters, digits, "-" or "_". No ".", "/", "%" or NUL can pass, so a
 * valid id is always one plain path segment below `walls/` and no path built from it leaves the
 * mount. API Gateway decodes path parameters before the function sees them, so `..%2F` arrives
 * as `../` and is checked here in its decoded form.
 */
export const WALL_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A wall: `null` is the top-level wall of the post (`<dir>/content`), a string a per-user wall. */
export type WallId = string | null;

/** Returns `raw` if it is a valid wall id; throws {@link InvalidWallIdError} saying what to use otherwise. */
export function parseWallId(raw: string): string {
  if (WALL_ID_PATTERN.test(raw)) return raw;
  throw new InvalidWallIdError(
    `Wall id ${preview(raw)} is invalid: use 1 to 64 letters, digits, "-" or "_", for example /message-wall/alice.`,
  );
}

/** How a wall is reached over HTTP; used in messages that tell the client what to request. */
export function wallUrlPath(id: WallId): string {
  return id === null ? '/message-wall' : `/message-wall/${id}`;
}

/** A short, escaped rendering of untrusted text for an error message. */
function preview(raw: string): string {
  const max = 40;
  const chars = [...raw];
  const shown = chars.length > max ? `${chars.slice(0, max).join('')}…` : raw;
  // JSON escaping makes NUL, control characters and lone surrogates visible instead of raw.
  return chars.length === 0 ? '"" (empty)' : JSON.stringify(shown);
}
