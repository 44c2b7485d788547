// A progress bar for copying large model files: redrawn in place on a terminal (at most ten
// times a second), one line at the start and one at the end otherwise (CI logs, pipes).

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export type Progress = (done: number, total: number) => void;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/**
 * A progress callback for one file. Call it with (done, total) as bytes arrive; the last call
 * (done === total) finishes the line.
 * @example
 * const progress = progressBar(process.stderr, 'model.onnx');
 * progress(0, size); … progress(size, size);
 */
export function progressBar(stream: ProgressStream, label: string, now: () => number = () => performance.now()): Progress {
  const startedAt = now();
  let lastDraw = -Infinity;
  let finished = false;
  let announced = false;
  return (done, total) => {
    if (finished) return;
    const complete = done >= total;
    const t = now();
    if (stream.isTTY !== true) {
      if (!announced) {
        announced = true;
        stream.write(`${label}: copying ${formatBytes(total)}\n`);
      }
      if (complete) {
        finished = true;
        stream.write(`${label}: ${formatBytes(total)} in ${((t - startedAt) / 1000).toFixed(1)} s\n`);
      }
      return;
    }
    if (!complete && t - lastDraw < 100) return;
    lastDraw = t;
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    const seconds = Math.max(0.001, (t - startedAt) / 1000);
    const rate = `${formatBytes(done / seconds)}/s`;
    const text = `${Math.floor(fraction * 100)
      .toString()
      .padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${rate}`;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - text.length - 6));
    const filled = Math.round(fraction * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\u001b[K`);
    if (complete) {
      finished = true;
      stream.write('\n');
    }
  };
}
