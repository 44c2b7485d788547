/**
 * One error hierarchy for the package, rooted in lambda-http's FunctionError: a stable `code`, the
 * HTTP `status` the handler answers with, and `expose` (whether the message, which then says what
 * to do, may be shown to the client).
 */
import { FunctionError, type FunctionErrorOptions } from '@lambda-efs/lambda-http';

export type MessageWallErrorCode =
  | 'ECONFIG'
  | 'EWALLID'
  | 'EQUERY'
  | 'EBODY'
  | 'EEMPTY'
  | 'EMULTILINE'
  | 'ECONTROLCHAR'
  | 'ETOOLARGE'
  | 'EWALLFULL'
  | 'EWALLLIMIT'
  | 'EBUSY'
  | 'EINTERNAL';

export class MessageWallError extends FunctionError<MessageWallErrorCode> {
  constructor(code: MessageWallErrorCode, status: number, message: string, options: FunctionErrorOptions = {}) {
    super(code, status, message, options);
    this.name = 'MessageWallError';
  }
}

/** The environment is missing a variable or has an invalid value. Thrown at cold start. */
export class ConfigError extends MessageWallError {
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('ECONFIG', 500, `${variable} ${message}`, { ...options, expose: false });
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export class InvalidWallIdError extends MessageWallError {
  constructor(message: string) {
    super('EWALLID', 400, message);
    this.name = 'InvalidWallIdError';
  }
}

export class InvalidQueryError extends MessageWallError {
  constructor(message: string) {
    super('EQUERY', 400, message);
    this.name = 'InvalidQueryError';
  }
}

/** The body could not be decoded (bad base64, invalid UTF-8). */
export class InvalidBodyError extends MessageWallError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EBODY', 400, message, options);
    this.name = 'InvalidBodyError';
  }
}

export class EmptyMessageError extends MessageWallError {
  constructor() {
    super(
      'EEMPTY',
      400,
      "Message is empty. Send the message text as the request body, for example curl -X POST -d 'Hello from EFS!' <url>.",
    );
    this.name = 'EmptyMessageError';
  }
}

export class MultilineMessageError extends MessageWallError {
  constructor() {
    super(
      'EMULTILINE',
      400,
      'Message contains a line break, and the wall stores one message per line: it would become several messages. ' +
        'Remove the line breaks (a trailing one too), or post each line as its own message.',
    );
    this.name = 'MultilineMessageError';
  }
}

export class ControlCharacterError extends MessageWallError {
  constructor(codePoint: number) {
    const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
    super('ECONTROLCHAR', 400, `Message contains the control character U+${hex}. Remove it: messages are plain text (tabs are allowed).`);
    this.name = 'ControlCharacterError';
  }
}

export class MessageTooLargeError extends MessageWallError {
  constructor(bytes: number, maxBytes: number) {
    super(
      'ETOOLARGE',
      413,
      `Message is too large: ${bytes} bytes, the limit is ${maxBytes} bytes of UTF-8 text. Shorten it or split it into several messages.`,
    );
    this.name = 'MessageTooLargeError';
  }
}

export class WallFullError extends MessageWallError {
  constructor(wallName: string, usedBytes: number, messageBytes: number, maxWallBytes: number, deleteUrlPath: string) {
    super(
      'EWALLFULL',
      507,
      `The ${wallName} is full: it holds ${usedBytes} of ${maxWallBytes} bytes and this message needs ${messageBytes} more. ` +
        `Nothing was stored. Clear the wall with DELETE ${deleteUrlPath} (this removes every message on it), then post again.`,
      // The client's condition, not a failure of the function: WARN, not ERROR.
      { expose: true, logLevel: 'WARN' },
    );
    this.name = 'WallFullError';
  }
}

/** Creating one more per-user wall would pass MESSAGE_WALL_MAX_WALLS. Nothing was created. */
export class WallLimitError extends MessageWallError {
  constructor(wallName: string, maxWalls: number) {
    super(
      'EWALLLIMIT',
      507,
      `The ${wallName} does not exist and cannot be created: the limit of ${maxWalls} per-user walls is reached. Nothing was stored. ` +
        'Post to an existing wall (or to /message-wall), or ask the operator to remove unused walls or raise MESSAGE_WALL_MAX_WALLS.',
      { expose: true, logLevel: 'WARN' },
    );
    this.name = 'WallLimitError';
  }
}

/** The wall's lock could not be taken in time, or was lost and the change did not land. Nothing was changed. */
export class WallBusyError extends MessageWallError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EBUSY', 503, message, { ...options, expose: true, headers: { 'retry-after': '1' } });
    this.name = 'WallBusyError';
  }
}

/** Anything unexpected (a file system error). Not shown to the client; logged with its cause. */
export class InternalError extends MessageWallError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINTERNAL', 500, message, { ...options, expose: false });
    this.name = 'InternalError';
  }
}

// One copy for every function: lambda-http's.
export { systemErrorCode } from '@lambda-efs/lambda-http';
