// Appends `count` lines to a file under efs-utils' lock, one after another, in one process.
// Usage: node append-loop.mjs <file> <count>
import { appendLine } from '../dist/index.js';

const [file, countArg] = process.argv.slice(2);
const count = Number(countArg);
await appendLine(file, 'warm-up'); // first use creates the staging directory
for (let i = 0; i < count; i++) await appendLine(file, `line ${i}`);
