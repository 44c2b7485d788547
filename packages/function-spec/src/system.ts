import type { IssueList } from './internal/checks.js';
import { childPath, collectIssues, deepFreeze, preview } from './internal/checks.js';
import { checkFunction } from './function.js';
import { parseRouteKey, routeIdentity } from './route-key.js';
import type { AccessPointDefinition, FunctionDefinition, FunctionSpec, SystemDefinition, SystemRoute, ValidationResult } from './types.js';

/**
 * Validates a whole set of functions without throwing: each function on its own, then the rules
 * between them. Function names are unique; no two routes are the same route (same method and
 * path shape, parameter names ignored; `ANY /x` and `GET /x` may coexist, as in API Gateway);
 * access points with the same name are identical; two access points do not share a root path.
 * @example
 * const result = validateSystem([messageWall.functionDefinition, mlInference.functionDefinition]);
 * if (!result.ok) throw result.error;
 * for (const accessPoint of result.value.accessPoints) createDirectory(accessPoint);
 */
export function validateSystem(functions: readonly FunctionSpec[]): ValidationResult<SystemDefinition> {
  const subject = Array.isArray(functions) ? `System of ${functions.length} function(s)` : 'System';
  return collectIssues(subject, (issues) => checkSystem(functions as unknown, issues));
}

/**
 * Validates a whole set of functions (see {@link validateSystem} for the rules) and returns it
 * with its access points (each once) and its route table, frozen. Infra and the local runtime
 * both start from this.
 * @throws {InvalidSpecError} listing every problem, with paths such as `functions[1].name`.
 * @example
 * const system = defineSystem([messageWall.functionDefinition, mlInference.functionDefinition]);
 */
export function defineSystem(functions: readonly FunctionSpec[]): SystemDefinition {
  const result = validateSystem(functions);
  if (!result.ok) throw result.error;
  return result.value;
}

function checkSystem(input: unknown, issues: IssueList): SystemDefinition | undefined {
  if (!Array.isArray(input)) {
    issues.invalid('', input, 'a system is an array of function declarations');
    return undefined;
  }
  const functions: FunctionDefinition[] = [];
  const indexes: number[] = [];
  for (const [index, spec] of input.entries()) {
    const definition = checkFunction(spec, childPath('functions', index), issues);
    if (definition !== undefined) {
      functions.push(definition);
      indexes.push(index);
    }
  }

  const byName = new Map<string, number>();
  const byRoute = new Map<string, { index: number; routeIndex: number; key: string }>();
  const accessPoints = new Map<string, { definition: AccessPointDefinition; index: number }>();
  const byRootPath = new Map<string, { name: string; index: number }>();
  const routes: SystemRoute[] = [];

  for (const [position, definition] of functions.entries()) {
    const index = indexes[position] ?? position;
    const at = (key: string): string => childPath(childPath('functions', index), key);

    const sameName = byName.get(definition.name);
    if (sameName !== undefined) {
      issues.conflict(
        at('name'),
        definition.name,
        `functions[${sameName}] already has this name; function names must be unique, rename one`,
      );
    } else {
      byName.set(definition.name, index);
    }

    for (const [routeIndex, routeKey] of definition.routes.entries()) {
      const route = parseRouteKey(routeKey);
      const identity = routeIdentity(route);
      const first = byRoute.get(identity);
      if (first !== undefined && first.index !== index) {
        issues.conflict(
          childPath(at('routes'), routeIndex),
          routeKey,
          `functions[${first.index}].routes[${first.routeIndex}] ${preview(first.key)} is the same route; one route goes to one function, remove one`,
        );
        continue;
      }
      byRoute.set(identity, { index, routeIndex, key: routeKey });
      routes.push({ routeKey, route, functionName: definition.name });
    }

    const accessPoint = definition.fileSystem?.accessPoint;
    if (accessPoint === undefined) continue;
    const accessPointPath = childPath(at('fileSystem'), 'accessPoint');
    const known = accessPoints.get(accessPoint.name);
    if (known !== undefined) {
      if (!sameAccessPoint(known.definition, accessPoint)) {
        issues.conflict(
          accessPointPath,
          accessPoint.name,
          `functions[${known.index}] declares an access point with this name and different settings ` +
            `(${describe(known.definition)} vs ${describe(accessPoint)}); declare it once with defineAccessPoint and import it in both functions`,
        );
      }
      continue;
    }
    const sameRoot = byRootPath.get(accessPoint.rootPath);
    if (sameRoot !== undefined) {
      issues.conflict(
        childPath(accessPointPath, 'rootPath'),
        accessPoint.rootPath,
        `access point "${sameRoot.name}" of functions[${sameRoot.index}] has the same root path; use one access point for both functions or give each its own directory`,
      );
      continue;
    }
    accessPoints.set(accessPoint.name, { definition: accessPoint, index });
    byRootPath.set(accessPoint.rootPath, { name: accessPoint.name, index });
  }

  if (issues.length > 0) return undefined;
  return deepFreeze({
    functions,
    accessPoints: [...accessPoints.values()].map((entry) => entry.definition),
    routes,
  });
}

function sameAccessPoint(a: AccessPointDefinition, b: AccessPointDefinition): boolean {
  return (
    a.rootPath === b.rootPath &&
    a.permissions === b.permissions &&
    a.owner.uid === b.owner.uid &&
    a.owner.gid === b.owner.gid &&
    a.posixUser.uid === b.posixUser.uid &&
    a.posixUser.gid === b.posixUser.gid
  );
}

function describe(accessPoint: AccessPointDefinition): string {
  const { rootPath, owner, posixUser, permissions } = accessPoint;
  return `${rootPath} owner ${owner.uid}:${owner.gid} user ${posixUser.uid}:${posixUser.gid} mode ${permissions}`;
}
