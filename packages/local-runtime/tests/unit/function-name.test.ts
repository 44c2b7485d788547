import { describe, expect, it } from 'vitest';

import { parseFunctionName } from '../../src/invoke/function-name.js';

describe('parseFunctionName', () => {
  it.each([
    ['efs-provisioner', { name: 'efs-provisioner', qualifier: undefined }],
    ['efs-provisioner:$LATEST', { name: 'efs-provisioner', qualifier: '$LATEST' }],
    ['efs-provisioner:live', { name: 'efs-provisioner', qualifier: 'live' }],
    ['123456789012:function:efs-provisioner', { name: 'efs-provisioner', qualifier: undefined }],
    ['arn:aws:lambda:us-east-1:123456789012:function:efs-provisioner', { name: 'efs-provisioner', qualifier: undefined }],
    ['arn:aws:lambda:eu-west-3:210987654321:function:efs-provisioner:7', { name: 'efs-provisioner', qualifier: '7' }],
    ['arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f_1', { name: 'f_1', qualifier: undefined }],
  ])('reads %s', (value, expected) => {
    expect(parseFunctionName(value)).toEqual(expected);
  });

  it.each([[''], ['a/b'], ['arn:aws:s3:::bucket'], ['arn:aws:lambda:us-east-1:123:function:f'], ['x'.repeat(65)], ['f:'], ['f:a:b']])(
    'refuses %j',
    (value) => {
      expect(parseFunctionName(value)).toBeUndefined();
    },
  );
});
