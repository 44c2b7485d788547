import { describe, expect, it } from 'vitest';

import { parseRequest } from '../../src/core/request.js';
import { InvalidRequestError } from '../../src/errors.js';

const SHA = 'a'.repeat(64);

describe('parseRequest', () => {
  it('applies the defaults of an install (activate, keep 3)', () => {
    expect(
      parseRequest({
        action: 'install',
        target: 'models/demo',
        version: '1.0.0',
        artifact: { bucket: 'my-bucket', key: 'releases/x', versionId: 'v1', sha256: SHA },
      }),
    ).toEqual({
      action: 'install',
      target: 'models/demo',
      version: '1.0.0',
      artifact: { bucket: 'my-bucket', key: 'releases/x', versionId: 'v1', sha256: SHA },
      activate: true,
      keep: 3,
    });
  });

  it('treats an empty versionId as absent (an unversioned object, as Terraform reports it)', () => {
    const request = parseRequest({
      action: 'install',
      target: 'libraries/linux-arm64',
      version: '1',
      artifact: { bucket: 'my-bucket', key: 'k', versionId: '', sha256: SHA },
    });
    expect(request.action === 'install' && request.artifact).toEqual({ bucket: 'my-bucket', key: 'k', sha256: SHA });
  });

  it.each([
    [null, /must be a JSON object/],
    [{ action: 'upgrade' }, /"action" must be/],
    [
      { action: 'install', target: 'models/demo', version: '1', artifact: { bucket: 'b1b', key: 'k', sha256: SHA }, activte: true },
      /Unknown field "activte"/,
    ],
    [
      { action: 'install', target: 'models/demo', version: '1', artifact: { bucket: 'b1b', key: 'k', sha256: SHA.toUpperCase() } },
      /64 lower-case hex/,
    ],
    [
      { action: 'install', target: 'models/demo', version: '../1', artifact: { bucket: 'b1b', key: 'k', sha256: SHA } },
      /"version" must be/,
    ],
    [{ action: 'activate', target: 'models/../../etc', version: '1' }, /"target" must be/],
    [{ action: 'activate', target: '/models/demo', version: '1' }, /"target" must be/],
    [{ action: 'rollback', target: 'models/demo', to: '' }, /"to" must be/],
    [{ action: 'prune', target: 'models/demo', keep: 0 }, /"keep" must be an integer from 1/],
    [{ action: 'prune', target: 'models/demo' }, /"keep" is required/],
  ])('refuses %j, saying what is expected', (event, message) => {
    expect(() => parseRequest(event)).toThrow(InvalidRequestError);
    expect(() => parseRequest(event)).toThrow(message);
  });
});
