import { randomBytes } from 'node:crypto';

/**
 * A name component unique across hosts: 96 random bits. The pid alone is not unique on a
 * shared file system (every Lambda environment is pid 1-ish), nor is a timestamp.
 */
export function uniqueToken(): string {
  return randomBytes(12).toString('hex');
}
