#!/usr/bin/env node
// Writes fixtures/sample.jpg, the image the smoke test uploads: a mostly red picture (a red field,
// a darker red "bird" and a pale sky band) that the demo model classifies as "red" with a wide
// margin. The committed file is what the smoke test sends; this script is how it was made:
//
//   node packages/smoke/scripts/make-sample.mjs      (from the repository root)
//
// sharp is ml-inference's dependency, resolved from there so this package needs no native module.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../../apps/ml-inference/package.json', import.meta.url));
const sharp = require('sharp');

const width = 320;
const height = 240;
const pixels = Buffer.alloc(width * height * 3);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3;
    let rgb = [200 + Math.round((55 * x) / width), 30, 40]; // red field, lighter to the right
    if (y < 30) rgb = [250, 200, 200]; // pale sky band on top
    const dx = (x - 160) / 70;
    const dy = (y - 140) / 40;
    if (dx * dx + dy * dy < 1) rgb = [120, 10, 20]; // the bird: a dark red ellipse
    pixels.set(rgb, i);
  }
}
const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } })
  .jpeg({ quality: 85, mozjpeg: false })
  .toBuffer();
const out = fileURLToPath(new URL('../fixtures/sample.jpg', import.meta.url));
writeFileSync(out, jpeg);
process.stdout.write(`wrote ${out} (${jpeg.length} bytes, ${width}x${height})\n`);
