import { it } from 'vitest';
it.todo('smoke');
