import { it } from 'vitest';
it.todo('web');
