// `@lambda-efs/efs-provisioner/archive`: the release archive format (contract C2), its
// deterministic writer and the provisioner's strict streaming reader.
export { packDirectory, packDirectoryToFile, FILE_MODE, EXEC_MODE, type PackedArchive, type PackedFile, type PackOptions } from './pack.js';
export {
  extractTarGz,
  DEFAULT_EXTRACT_LIMITS,
  type ExtractLimits,
  type ExtractOptions,
  type ExtractResult,
  type FileDigest,
} from './extract.js';
export { checkEntryPath, checkLinkTarget } from './paths.js';
export { ArchiveError, ArchiveLimitError } from '../errors.js';
