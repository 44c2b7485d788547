// Recognising an image by its first bytes (never by a Content-Type header or a file name) and
// opening it with sharp under limits: a pixel cap against decompression bombs, the first frame
// of animations, and decode errors turned into typed errors.
import type { SharpOptions } from 'sharp';

import { CorruptImageError, EmptyImageError, SvgRefusedError, TooManyPixelsError, UnsupportedMediaTypeError } from '../errors.js';

/** Formats the function accepts (SVG only when allowed). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff' | 'svg';

const ACCEPTED_FORMATS_TEXT = 'JPEG, PNG, WebP, GIF, AVIF or TIFF';

/** Formats recognised only to be refused with a helpful message. */
type RefusedFormat = 'heic' | 'bmp' | 'pdf' | 'ico' | 'jxl';

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.subarray(start, Math.min(end, bytes.length))).toString('latin1');
}

/** ISO-BMFF (AVIF/HEIC): `ftyp` box at offset 4; the major and compatible brands name the format. */
function isoBrand(bytes: Uint8Array): 'avif' | 'heic' | undefined {
  if (bytes.length < 12 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const boxSize = Buffer.from(bytes.subarray(0, 4)).readUInt32BE(0);
  const end = Math.min(bytes.length, boxSize >= 16 && boxSize <= 4096 ? boxSize : 32);
  const brands = [ascii(bytes, 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(ascii(bytes, offset, offset + 4));
  if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return 'avif';
  if (brands.some((brand) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand))) return 'heic';
  return undefined;
}

/** Looks like XML/SVG text: optional BOM and whitespace, then `<?xml`, `<!--`, `<!DOCTYPE svg` or `<svg`. */
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 1024))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<svg')) return true;
  if (head.startsWith('<?xml') || head.startsWith('<!--') || head.startsWith('<!doctype')) return head.includes('<svg');
  return false;
}

/** The format named by the content's first bytes, or undefined for anything unrecognised. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | RefusedFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  const brand = isoBrand(bytes);
  if (brand !== undefined) return brand;
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  if (ascii(bytes, 0, 5) === '%PDF-') return 'pdf';
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return 'ico';
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return 'jxl';
  if (looksLikeSvg(bytes)) return 'svg';
  return undefined;
}

/**
 * Checks that `bytes` are an image the function reads and returns its format. `what` names the
 * source in messages ("The uploaded image", "The image at https://…").
 */
export function checkImageBytes(bytes: Uint8Array, what: string, allowSvg: boolean): ImageFormat {
  if (bytes.length === 0) throw new EmptyImageError(what);
  const format = sniffImageFormat(bytes);
  switch (format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'avif':
    case 'tiff':
      return format;
    case 'svg':
      if (!allowSvg) throw new SvgRefusedError();
      return format;
    case undefined:
      throw new UnsupportedMediaTypeError(
        `${what} is not a ${ACCEPTED_FORMATS_TEXT} image (judged by its content, not its Content-Type). ` +
          'Send the image file itself; a POST body needs an image Content-Type (for example -H "Content-Type: image/jpeg") so it arrives unaltered.',
      );
    default:
      throw new UnsupportedMediaTypeError(
        `${what} is ${format.toUpperCase()}, which is not accepted: convert it to ${ACCEPTED_FORMATS_TEXT} and send that.`,
      );
  }
}

export interface DecodeLimits {
  /** Largest width × height. */
  readonly maxPixels: number;
}

/**
 * sharp input options: the pixel cap, the first frame only, and strict decoding. JPEG fails on
 * libjpeg's warnings too: a JPEG cut short (an end marker appended or not) is only a "premature
 * end of data segment" warning, and would otherwise be classified with a grey fill. Other formats
 * fail on errors only (libpng warns about common harmless things, such as a known sRGB profile).
 */
export function sharpInputOptions(limits: DecodeLimits, format?: ImageFormat): SharpOptions {
  return {
    limitInputPixels: limits.maxPixels,
    failOn: format === 'jpeg' ? 'warning' : 'error',
    pages: 1,
    animated: false,
    sequentialRead: true,
    // SVG: no larger than the pixel cap either way; 72 dpi is librsvg's nominal size.
    density: 72,
  };
}

/**
 * Fewest bytes a Huffman-coded JPEG of `pixels` pixels can have: each 8×8 block of the luminance
 * channel needs at least a DC code and an end-of-block code (2 bits), so about pixels / 256
 * bytes; this takes a quarter of that. A file smaller than this declares more pixels than it
 * holds (truncated, or a forged header meant to make the decoder allocate).
 */
export function minimumJpegBytes(pixels: number): number {
  return Math.floor(pixels / 1024);
}

/** Whether a JPEG's frame is Huffman-coded (SOF0–3, 5–7); false for arithmetic coding or no frame header found. */
export function isHuffmanJpeg(bytes: Uint8Array): boolean {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return false;
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return marker <= 0xc7;
    if (marker === 0xd9 || marker === 0xda) return false;
    offset += 2 + (((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0));
  }
  return false;
}

/** Maps an error from sharp/libvips to a typed error: pixel limits to 413, everything else to "corrupt". */
export function mapDecodeError(error: unknown, format: ImageFormat, maxPixels: number): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return new TooManyPixelsError(undefined, undefined, maxPixels);
  const detail =
    message
      .split('\n')[0]
      ?.replace(/^[a-z_]+: /i, '')
      .slice(0, 160) ?? 'unknown error';
  return new CorruptImageError(format.toUpperCase(), detail, { cause: error });
}
