/**
 * API Gateway HTTP API payload format 2.0: the event a function receives and the result it may
 * return. Written here rather than taken from @types/aws-lambda so the runtime has no type
 * dependency and the fields it produces are visible in one place.
 */

/** `requestContext.http` of a payload 2.0 event. */
export interface HttpApiEventHttp {
  readonly method: string;
  readonly path: string;
  readonly protocol: string;
  readonly sourceIp: string;
  readonly userAgent: string;
}

/** `requestContext` of a payload 2.0 event (no authorizer: none is configured locally). */
export interface HttpApiRequestContext {
  readonly accountId: string;
  readonly apiId: string;
  readonly domainName: string;
  readonly domainPrefix: string;
  readonly http: HttpApiEventHttp;
  /** API Gateway's request id, like `"LV7fzho-PHcEJPw="`; also sent back as `apigw-requestid`. */
  readonly requestId: string;
  readonly routeKey: string;
  readonly stage: string;
  /** @example '12/Mar/2020:19:03:58 +0000' */
  readonly time: string;
  readonly timeEpoch: number;
}

/** The event of an HTTP API Lambda proxy integration, payload format 2.0. Empty fields are absent. */
export interface HttpApiEvent {
  readonly version: '2.0';
  readonly routeKey: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly cookies?: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly queryStringParameters?: Readonly<Record<string, string>>;
  readonly requestContext: HttpApiRequestContext;
  readonly body?: string;
  readonly pathParameters?: Readonly<Record<string, string>>;
  readonly isBase64Encoded: boolean;
  readonly stageVariables?: Readonly<Record<string, string>>;
}

/** The structured result a function may return (any other JSON value is a 200 JSON body). */
export interface HttpApiStructuredResult {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string | number | boolean>>;
  readonly cookies?: readonly string[];
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}
