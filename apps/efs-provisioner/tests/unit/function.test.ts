import { accessPoint, functionDefinition as mlInference } from '@lambda-efs/ml-inference/function';
import { describe, expect, it } from 'vitest';

import { functionDefinition, PROVISION_MOUNT_PATH } from '../../src/function.js';

describe('the efs-provisioner declaration', () => {
  it('is never routed on the public API', () => {
    expect(functionDefinition.routes).toEqual([]);
  });

  it('mounts the access point ml-inference reads, where PROVISION_ROOT says', () => {
    expect(functionDefinition.fileSystem?.accessPoint).toEqual(accessPoint);
    expect(mlInference.fileSystem?.accessPoint).toEqual(accessPoint);
    expect(functionDefinition.fileSystem?.mountPath).toBe(PROVISION_MOUNT_PATH);
    expect(functionDefinition.fileSystem?.readOnly).toBe(false);
    expect(functionDefinition.environment['PROVISION_ROOT']).toBe(PROVISION_MOUNT_PATH);
  });

  it('runs the handler next to the compiled declaration, long enough for big releases', () => {
    expect(functionDefinition.entry.endsWith('/handler.js')).toBe(true);
    expect(functionDefinition.handlerExport).toBe('handler');
    expect(functionDefinition.timeoutSeconds).toBe(900);
  });
});
