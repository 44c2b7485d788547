// IAM policy documents as typed data. They are serialized with JSON.stringify: resource ARNs are
// cdktf tokens, which synthesize as Terraform interpolations inside the JSON string.

/** One statement of an IAM policy (identity-based or resource-based). */
export interface PolicyStatement {
  /** ASCII letters and digits only. */
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: { readonly AWS?: string | readonly string[]; readonly Service?: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** Mounting an EFS file system (read access). */
const EFS_CLIENT_MOUNT = 'elasticfilesystem:ClientMount';
/** Writing to a mounted EFS file system. */
const EFS_CLIENT_WRITE = 'elasticfilesystem:ClientWrite';

/** Every EFS action: what the TLS-only statement denies over plain transport. */
export const EFS_ALL_ACTIONS = 'elasticfilesystem:*';

/**
 * The EFS client actions a function gets: mount, plus write unless the mount is read-only.
 * `ClientRootAccess` is never granted: access points force their own POSIX user anyway, and root
 * would bypass the file permissions that keep one function out of another's files.
 */
export function efsClientActions(readOnly: boolean): readonly string[] {
  return readOnly ? [EFS_CLIENT_MOUNT] : [EFS_CLIENT_MOUNT, EFS_CLIENT_WRITE];
}

/** `'message-wall'` → `'MessageWall'`: a name usable in a `Sid` (letters and digits only). */
export function sidFragment(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('');
}

/** A trust policy that lets `service` (e.g. `lambda.amazonaws.com`) assume the role. */
export function assumeRolePolicy(service: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  };
}
