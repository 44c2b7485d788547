import { existsSync } from 'node:fs';

import {
  validateAccessPoint,
  validateSystem,
  type AccessPointDefinition,
  type AccessPointSpec,
  type FunctionSpec,
  type Issue,
  type SystemDefinition,
} from '@lambda-efs/function-spec';

import { InvalidDeclarationError, MissingEntryError, type DeclarationIssue } from './errors.js';

/** The declarations, validated, with every access point to create (declared or used). */
export interface LoadedDeclarations {
  readonly system: SystemDefinition;
  readonly accessPoints: readonly AccessPointDefinition[];
}

/**
 * Validates the functions and access points with function-spec (the same rules infra applies)
 * and checks that each function's handler module exists (except for those in `packaged`, which
 * run from their deployment package). Nothing partial: any problem throws.
 * @throws {InvalidDeclarationError} listing every problem, each with its function and field.
 * @throws {MissingEntryError} naming each function whose `entry` is not built.
 */
export function loadDeclarations(
  functions: readonly FunctionSpec[],
  accessPoints: readonly AccessPointSpec[] | undefined,
  packaged: ReadonlySet<string> = new Set(),
): LoadedDeclarations {
  if (!Array.isArray(functions)) {
    throw new InvalidDeclarationError([
      {
        functionName: undefined,
        path: 'functions',
        message: 'functions must be an array of function declarations (defineFunction results).',
      },
    ]);
  }
  const issues: DeclarationIssue[] = [];
  const result = validateSystem(functions);
  if (!result.ok) {
    for (const issue of result.issues) issues.push(withFunctionName(issue, functions));
  }

  const declared: AccessPointDefinition[] = [];
  if (accessPoints !== undefined) {
    if (!Array.isArray(accessPoints)) {
      issues.push({
        functionName: undefined,
        path: 'accessPoints',
        message: 'accessPoints must be an array of access point declarations.',
      });
    } else {
      for (const [index, spec] of accessPoints.entries()) {
        const checked = validateAccessPoint(spec);
        if (checked.ok) declared.push(checked.value);
        else {
          for (const issue of checked.issues) {
            const path = issue.path === '' ? `accessPoints[${index}]` : `accessPoints[${index}].${issue.path}`;
            issues.push({ functionName: undefined, path, message: `accessPoints[${index}]: ${issue.message}` });
          }
        }
      }
    }
  }
  if (!result.ok || issues.length > 0) {
    throw new InvalidDeclarationError(issues, result.ok ? {} : { cause: result.error });
  }

  // The access points passed explicitly must agree with the ones the functions use.
  const byName = new Map(declared.map((accessPoint) => [accessPoint.name, accessPoint]));
  for (const [index, definition] of result.value.functions.entries()) {
    const used = definition.fileSystem?.accessPoint;
    if (used === undefined || accessPoints === undefined) continue;
    const known = byName.get(used.name);
    if (known === undefined) {
      issues.push({
        functionName: definition.name,
        path: `functions[${index}].fileSystem.accessPoint`,
        message: `fileSystem.accessPoint "${used.name}" is not among the accessPoints passed; pass it too (its module exports it as accessPoint).`,
      });
    } else if (JSON.stringify(known) !== JSON.stringify(used)) {
      issues.push({
        functionName: definition.name,
        path: `functions[${index}].fileSystem.accessPoint`,
        message: `fileSystem.accessPoint "${used.name}" differs from the access point of that name passed in accessPoints; declare it once and import it.`,
      });
    }
  }
  if (issues.length > 0) throw new InvalidDeclarationError(issues);

  const missing = result.value.functions
    .filter((definition) => !packaged.has(definition.name) && !existsSync(definition.entry))
    .map((definition) => ({ functionName: definition.name, entry: definition.entry }));
  if (missing.length > 0) throw new MissingEntryError(missing);

  const all = new Map<string, AccessPointDefinition>();
  for (const accessPoint of [...result.value.accessPoints, ...declared]) all.set(accessPoint.name, accessPoint);
  return { system: result.value, accessPoints: [...all.values()] };
}

function withFunctionName(issue: Issue, functions: readonly FunctionSpec[]): DeclarationIssue {
  const index = /^functions\[(\d+)\]/.exec(issue.path)?.[1];
  const spec: unknown = index === undefined ? undefined : functions[Number(index)];
  const name =
    spec !== null && typeof spec === 'object' && typeof (spec as { name?: unknown }).name === 'string'
      ? (spec as { name: string }).name
      : index === undefined
        ? undefined
        : `#${index}`;
  return { functionName: name, path: issue.path, message: issue.message };
}
