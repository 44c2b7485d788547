import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/repo-checks/tests/helpers/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** This package's directory. */
export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
