// Checks on the repository itself, used by this package's tests: GitHub workflows (schema, pins,
// permissions, the pnpm/turbo calls they make) and the workspace those calls must find.
export { RepoChecksError, WorkspaceError, YamlParseError, type RepoChecksErrorCode } from './errors.js';
export { toolCalls, type ToolCall } from './pnpm.js';
export { simpleCommands, type ShellWord, type SimpleCommand } from './shell.js';
export {
  isRecord,
  jobPermissions,
  jobsOf,
  loadGithubFiles,
  parseGithubFile,
  parseGithubText,
  pinProblem,
  runSteps,
  schemaProblems,
  stepsOf,
  triggers,
  usesRefs,
  workflowPermissions,
  writeScopes,
  type GithubFile,
  type GithubFileKind,
  type Permissions,
  type RunStep,
  type UsesRef,
} from './workflows.js';
export { callProblems, readWorkspace, selectPackages, type Workspace, type WorkspacePackage } from './workspace.js';
