import { it } from 'vitest';
it.todo('provisioner');
