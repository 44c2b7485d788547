import { describe, expect, it } from 'vitest';
import { LocalQueue } from '../../src/lock/local-queue.js';

describe('LocalQueue (the in-process turn for exclusive requests)', () => {
  // Finding F6 of issue 12: waitForDrain's failure released the lease (leaving the queue) and
  // lock()'s error path left it again, which granted two waiters at once.
  it('hands the turn on once when the holder leaves twice', async () => {
    const queue = new LocalQueue();
    const leave = await queue.enter('k', '/f', 10_000);
    const granted: string[] = [];
    const second = queue.enter('k', '/f', 10_000).then((next) => {
      granted.push('second');
      return next;
    });
    const third = queue.enter('k', '/f', 10_000).then((next) => {
      granted.push('third');
      return next;
    });
    leave();
    leave();
    await second;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(granted).toEqual(['second']);
    (await second)();
    (await third)();
    expect(granted).toEqual(['second', 'third']);
  });
});
