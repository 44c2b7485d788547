import { existsSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

const CODE_FILE = /\.(?:[cm]?js|json|node)$/;
const RETRY_MS = 1000;

/** Which changed file names count (a file name in the watched directory). @default code files: .js .mjs .cjs .json .node */
export interface WatchOptions {
  readonly matches?: (filename: string) => boolean;
  readonly debounceMs?: number;
}

/**
 * Calls `onChange` once a rebuild of the function's code settles: a watch on the directory of
 * its entry module (a build rewrites the entry and its siblings; tsc and bundlers both do),
 * debounced so one build is one change. Non-recursive, so a watch costs one inotify watch. A
 * clean build that deletes the directory is followed: the watch is set again once it is back.
 * @returns a function that stops watching.
 */
export function watchCode(entry: string, onChange: () => void, options: WatchOptions = {}): () => void {
  const directory = dirname(entry);
  const debounceMs = options.debounceMs ?? 150;
  const matches = options.matches ?? ((filename: string) => CODE_FILE.test(filename));
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;

  const changed = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      onChange();
      if (!existsSync(directory)) restart();
    }, debounceMs);
    debounce.unref();
  };
  const restart = (): void => {
    watcher?.close();
    watcher = undefined;
    if (stopped || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (!existsSync(directory)) {
        restart();
        return;
      }
      start();
      changed();
    }, RETRY_MS);
    retry.unref();
  };
  const start = (): void => {
    try {
      watcher = watch(directory, { persistent: false }, (_event, filename) => {
        if (filename === null || matches(filename)) changed();
      });
      watcher.on('error', restart);
    } catch {
      restart();
    }
  };

  start();
  return () => {
    stopped = true;
    clearTimeout(debounce);
    clearTimeout(retry);
    watcher?.close();
  };
}
