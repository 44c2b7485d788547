// cdktf's Testing matchers (toHaveResource, toHaveResourceWithProperties, ...) are written for
// Jest: they extend the global `expect` and use its asymmetric matchers, which vitest's has too.
import { Testing } from 'cdktf';
import { expect } from 'vitest';

(globalThis as { expect?: unknown }).expect = expect;
Testing.setupJest();

/** What cdktf's matchers need of a resource class: its Terraform type. */
interface TerraformConstructor {
  readonly tfResourceType: string;
}

declare module 'vitest' {
  interface Matchers<T> {
    toHaveResource(resource: TerraformConstructor): T;
    toHaveResourceWithProperties(resource: TerraformConstructor, properties: Record<string, unknown>): T;
    toHaveProviderWithProperties(provider: TerraformConstructor, properties: Record<string, unknown>): T;
    toBeValidTerraform(): T;
  }
}
