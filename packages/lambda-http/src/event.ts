// The API Gateway HTTP API side of a function: the payload 2.0 event and result it exchanges.

/** The fields of an API Gateway HTTP API event (payload format 2.0) the functions read. */
export interface HttpApiEventV2 {
  readonly version?: string;
  readonly routeKey?: string;
  readonly rawPath?: string;
  readonly rawQueryString?: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>>;
  readonly pathParameters?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly requestId?: string;
    /** The API's id: its default endpoint is `<apiId>.execute-api.<region>.amazonaws.com`. */
    readonly apiId?: string;
    /** The host the client called (the default endpoint or a custom domain). */
    readonly domainName?: string;
    readonly http?: { readonly method?: string; readonly path?: string };
  };
}

/** A payload 2.0 response with a status, used as given by API Gateway. */
export interface HttpApiResultV2 {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

/** The part of the Lambda context the handlers use. */
export interface InvocationContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

/** The request method of an HTTP API event; undefined when `event` is not one. */
export function httpMethodOf(event: unknown): string | undefined {
  const http = isRecord(event) && isRecord(event['requestContext']) ? event['requestContext']['http'] : undefined;
  const method = isRecord(http) ? http['method'] : undefined;
  return typeof method === 'string' && method !== '' ? method : undefined;
}

/** Lambda's request id for logs, and API Gateway's when the event carries one. */
export function requestIds(event: unknown, context: InvocationContext | undefined): { requestId: string; apiRequestId?: string } {
  const apiRequestId = (event as HttpApiEventV2 | undefined)?.requestContext?.requestId;
  const api = typeof apiRequestId === 'string' ? { apiRequestId } : {};
  return { requestId: context?.awsRequestId ?? (typeof apiRequestId === 'string' ? apiRequestId : 'unknown'), ...api };
}

/** `record[key]` when `record` is an object and that field a string. */
export function stringField(record: unknown, key: string): string | undefined {
  if (!isRecord(record)) return undefined;
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
