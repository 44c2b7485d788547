/**
 * The `FunctionName` of Lambda's Invoke API, in any of the forms Lambda accepts: a name
 * (`efs-provisioner`), a name with a qualifier (`efs-provisioner:$LATEST`), a partial ARN
 * (`123456789012:function:efs-provisioner`) or a full ARN
 * (`arn:aws:lambda:us-east-1:123456789012:function:efs-provisioner[:qualifier]`).
 */
export interface FunctionReference {
  readonly name: string;
  /** `undefined` when none is given: `$LATEST`. */
  readonly qualifier: string | undefined;
}

const NAME = '[A-Za-z0-9_-]{1,64}';
const QUALIFIER = '\\$LATEST|[A-Za-z0-9_-]{1,128}';
const FORMS = [
  new RegExp(`^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d:\\d{12}:function:(${NAME})(?::(${QUALIFIER}))?$`),
  new RegExp(`^\\d{12}:function:(${NAME})(?::(${QUALIFIER}))?$`),
  new RegExp(`^(${NAME})(?::(${QUALIFIER}))?$`),
];

/** The name and qualifier in `value`, or `undefined` when it is none of Lambda's forms. */
export function parseFunctionName(value: string): FunctionReference | undefined {
  for (const form of FORMS) {
    const match = form.exec(value);
    if (match?.[1] !== undefined) return { name: match[1], qualifier: match[2] };
  }
  return undefined;
}
