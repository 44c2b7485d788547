// The core, for the CLIs and tests (the bundle's entry is handler.ts).
export { provision, type ProvisionerDeps } from './core/provision.js';
export { parseRequest, VERSION_PATTERN, type ProvisionRequest, type ProvisionResult, type ArtifactRef } from './core/request.js';
export { ReleaseSet, ARTIFACT_FILE, type ArtifactRecord } from './core/release-set.js';
export { loadConfig, type ProvisionerConfig } from './config.js';
export * from './errors.js';
