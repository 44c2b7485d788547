// PNG images made in a few lines (zlib + CRC-32 from Node.js), so the tests need no image library.
import { crc32, deflateSync } from 'node:zlib';

export type Rgb = readonly [number, number, number];

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/**
 * An 8-bit RGB PNG of `width` × `height` filled with `fill`, with a square of `spot` (a quarter of
 * the side) in its centre: "mostly red" is `png([220, 30, 30], { spot: [20, 20, 200] })`.
 */
export function png(fill: Rgb, options: { width?: number; height?: number; spot?: Rgb } = {}): Buffer {
  const width = options.width ?? 160;
  const height = options.height ?? 120;
  const side = Math.floor(Math.min(width, height) / 4);
  const x0 = Math.floor((width - side) / 2);
  const y0 = Math.floor((height - side) / 2);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    rows[row] = 0; // filter: none
    for (let x = 0; x < width; x += 1) {
      const inSpot = options.spot !== undefined && x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
      const [r, g, b] = inSpot && options.spot !== undefined ? options.spot : fill;
      rows.set([r, g, b], row + 1 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
