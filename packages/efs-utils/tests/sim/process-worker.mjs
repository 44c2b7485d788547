// One simulated process (a Lambda environment) in a worker thread. It runs efs-utils' real code
// with a Platform whose every file-system call is a synchronous request to the world (main
// thread), which decides when it executes: the library stays synchronous and unchanged, and the
// world interleaves the processes at every single call. Clocks and timers are virtual: the
// world says what this process's monotonic clock reads, and fires its timers one at a time.
// Both directions are synchronous (Atomics.wait + receiveMessageOnPort): one thread runs at a time.
import { workerData } from 'node:worker_threads';
import { recv as recvOn, send as sendOn } from './channel.mjs';

const { libDir, down, up } = workerData;
const lib = await import(`${libDir}/index.js`);
const { usePlatform } = await import(`${libDir}/platform.js`);

const send = (message) => sendOn(up, message);
let callSeq = 0;
const recv = () => recvOn(down);

/** The current run; replaced by each 'start'. Calls and timers of an ended run go nowhere. */
let run;

class SimDead extends Error {
  code = 'ESIMDEAD';
}

function makeRun(epoch, proc, runSeed) {
  const state = { epoch, proc, dead: false, mono: 0, wall: 0, timers: [], timerSeq: 0 };
  // The process's own randomness (backoff jitter, tokens), seeded by the world: replayable.
  let seed = (runSeed * 7919 + proc * 104729) >>> 0;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const call = (op, ...args) => {
    if (state.dead) throw new SimDead('the simulated run ended');
    const seq = ++callSeq;
    send({ t: 'call', op, args, seq });
    const reply = recv();
    if (!reply.dead && reply.seq !== seq) throw new Error(`reply ${JSON.stringify(reply).slice(0, 200)} to call ${seq} ${op}`);
    state.mono = reply.mono;
    state.wall = reply.wall;
    if (reply.dead) {
      state.dead = true;
      throw new SimDead('the simulated run ended');
    }
    if (reply.error)
      throw Object.assign(new Error(`${reply.error.code}: ${reply.error.message} (simulated ${op})`), { code: reply.error.code });
    return reply.value;
  };

  const addTimer = (fn, ms, repeat) => {
    const timer = { id: ++state.timerSeq, due: state.mono + Math.max(ms, 0), fn, repeat: repeat ? Math.max(ms, 1) : 0 };
    state.timers.push(timer);
    return timer.id;
  };
  const clearTimer = (id) => {
    state.timers = state.timers.filter((timer) => timer.id !== id);
  };
  state.fireNext = () => {
    let first;
    for (const timer of state.timers)
      if (first === undefined || timer.due < first.due || (timer.due === first.due && timer.id < first.id)) first = timer;
    if (first === undefined) return;
    if (first.repeat > 0) first.due = Math.max(first.due + first.repeat, state.mono);
    else clearTimer(first.id);
    first.fn();
  };

  const stats = (attr) => ({
    ino: attr.ino,
    dev: 1,
    mode: attr.mode | (attr.kind === 'dir' ? 0o040000 : attr.kind === 'symlink' ? 0o120000 : 0o100000),
    size: attr.size,
    mtimeMs: attr.mtimeMs,
    isDirectory: () => attr.kind === 'dir',
    isSymbolicLink: () => attr.kind === 'symlink',
    isFile: () => attr.kind === 'file',
  });

  const rmRecursive = (path) => {
    try {
      call('unlink', path);
      return;
    } catch (error) {
      if (error.code === 'ENOENT') return;
      if (error.code !== 'EISDIR') throw error;
    }
    let names;
    try {
      names = call('readdir', path);
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) rmRecursive(`${path}/${name}`);
    try {
      call('rmdir', path);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
  };

  const handle = (fd) => ({
    fd,
    write: async (bytes, offset, length, position) => ({
      bytesWritten: call('write', fd, Buffer.from(bytes.subarray(offset, offset + length)), position),
    }),
    chmod: async (mode) => call('fchmod', fd, mode),
    sync: async () => call('flush', fd),
    stat: async () => stats(call('fstat', fd)),
    close: async () => call('close', fd),
  });

  const fs = {
    renameSync: (from, to) => call('rename', from, to),
    readdirSync: (path) => call('readdir', path),
    rmSync: (path) => rmRecursive(path),
    rmdirSync: (path) => call('rmdir', path),
    unlinkSync: (path) => call('unlink', path),
    mkdirSync: (path) => call('mkdir', path),
    symlinkSync: (target, path) => call('symlink', target, path),
    lstatSync: (path) => stats(call('lstat', path)),
    existsSync: (path) => call('exists', path),
    openSync: (path, flags, mode) => call('open', path, flags, mode),
    writeSync: (fd, data, offset, length) => call('write', fd, Buffer.from(data.subarray(offset, offset + length)), null),
    fchmodSync: (fd, mode) => call('fchmod', fd, mode),
    fsyncSync: (fd) => call('flush', fd),
    closeSync: (fd) => call('close', fd),
    readFileSync: (path, encoding) => (encoding === 'utf8' ? call('readFile', path, 'utf8') : Buffer.from(call('readFile', path, null))),
  };
  const fsp = {
    open: async (path, flags, mode) => handle(call('open', path, flags, mode ?? 0o666)),
    rename: async (from, to) => call('rename', from, to),
    stat: async (path) => stats(call('lstat', path)),
    lstat: async (path) => stats(call('lstat', path)),
    unlink: async (path) => call('unlink', path),
    link: async () => {
      throw Object.assign(new Error('EPERM: no hard links in the simulation'), { code: 'EPERM' });
    },
    realpath: async (path) => path,
    symlink: async (target, path) => call('symlink', target, path),
    rm: async (path) => rmRecursive(path),
  };

  state.platform = {
    fs,
    fsp,
    monotonicMs: () => state.mono,
    wallMs: () => state.wall,
    setTimeout: (fn, ms) => addTimer(fn, ms, false),
    clearTimeout: clearTimer,
    setInterval: (fn, ms) => addTimer(fn, ms, true),
    clearInterval: clearTimer,
    random,
    token: () =>
      Array.from({ length: 12 }, () =>
        Math.floor(random() * 256)
          .toString(16)
          .padStart(2, '0'),
      ).join(''),
    owner: `host${proc}:1`,
  };
  state.call = call;
  state.sleep = (ms) => new Promise((resolve) => addTimer(resolve, ms, false));
  return state;
}

/** What one task of the process does, op by op; every observation is reported as an event. */
async function runTask(state, plan, task, ops) {
  const event = (type, data = {}) => state.call('event', type, { task, ...data });
  const options = { staleMs: plan.staleMs };
  for (const op of ops) {
    try {
      if (op.k === 'append') {
        if (op.own) {
          await lib.appendLine(plan.file, op.line, options);
          event('acked', { id: op.id });
          continue;
        }
        const held = await guard('lock', () => lib.lock(plan.file, { ...options, mode: 'exclusive' }));
        event('acq', { mode: 'exclusive', on: 'file' });
        try {
          await lib.appendLine(plan.file, op.line, { lock: held });
          event('acked', { id: op.id });
        } finally {
          event('rel');
          await guard('release', () => held.release());
        }
      } else if (op.k === 'read') {
        const held = await guard('lock', () => lib.lock(plan.file, { ...options, mode: 'shared' }));
        event('acq', { mode: 'shared', on: 'file' });
        try {
          if (op.holdMs > 0) await state.sleep(op.holdMs);
          const lines = await lib.readLines(plan.file, { lock: held });
          await held.assertHeld();
          event('ok', { lines: lines.length });
        } finally {
          event('rel');
          await guard('release', () => held.release());
        }
      } else if (op.k === 'rmw') {
        const held = await guard('lock', () => lib.lock(plan.register, { ...options, mode: 'exclusive' }));
        event('acq', { mode: 'exclusive', on: 'register' });
        try {
          if (op.holdMs > 0) await state.sleep(op.holdMs);
          const lines = await lib.readLines(plan.register, { lock: held });
          const version = lines.length === 0 ? 1 : Number(lines[0].slice(1)) + 1;
          await lib.atomicWriteFile(plan.register, `v${version}\n`, { lock: held, fsync: false });
          event('awf', { version });
        } finally {
          event('rel');
          await guard('release', () => held.release());
        }
      } else if (op.k === 'release') {
        // The model-release switch (ml-inference's model:install, the provisioner): under
        // current's lock, stage a release, move it into releases/ and point current at it.
        const held = await guard('lock', () => lib.lock(plan.current, { ...options, mode: 'exclusive' }));
        event('acq', { mode: 'exclusive', on: 'current' });
        try {
          if (op.holdMs > 0) await state.sleep(op.holdMs);
          const names = state.call('readdir', plan.releases);
          const version = Math.max(0, ...names.map((name) => Number(/^v(\d+)$/.exec(name)?.[1] ?? 0))) + 1;
          const staging = `${plan.dir}/.staging-${state.proc}-${version}`;
          await lib.removeTree(staging);
          state.call('mkdir', staging);
          await lib.atomicWriteFile(`${staging}/manifest`, `v${version}\n`, { fsync: false });
          await lib.atomicWriteFile(`${staging}/data`, `payload of v${version}\n`, { fsync: false });
          await lib.atomicMove(staging, `${plan.releases}/v${version}`, { lock: held });
          await held.assertHeld();
          await lib.switchSymlink(plan.current, `releases/v${version}`, { lock: held });
          await held.assertHeld();
          event('switched', { version });
        } finally {
          event('rel');
          await guard('release', () => held.release());
        }
      } else if (op.k === 'wait') {
        await state.sleep(op.ms);
      } else if (op.k === 'die') {
        // Takes the lock, uses it `rounds` times, and is killed while holding it: the world
        // never answers the 'crash' event, so nothing of this process runs again.
        const held = await guard('lock', () => lib.lock(plan.file, { ...options, mode: op.mode }));
        event('acq', { mode: op.mode, on: 'file' });
        try {
          for (let round = 0; round < op.rounds; round++) {
            await state.sleep(op.holdMs);
            await held.assertHeld();
            event('ok');
          }
        } catch (error) {
          event('rel');
          await guard('release', () => held.release());
          throw error;
        }
        event('crash');
      } else if (op.k === 'writer') {
        // A writer whose wait the world bounds (liveness): it must get in after the kill.
        event('asked');
        const held = await guard('lock', () => lib.lock(plan.file, { ...options, mode: 'exclusive', timeoutMs: op.timeoutMs }));
        event('acq', { mode: 'exclusive', on: 'file' });
        try {
          await lib.appendLine(plan.file, op.line, { lock: held });
          event('acked', { id: op.id });
        } finally {
          event('rel');
          await guard('release', () => held.release());
        }
      } else if (op.k === 'hold') {
        const held = await guard('lock', () => lib.lock(plan.file, { ...options, mode: op.mode }));
        event('acq', { mode: op.mode, on: 'file' });
        try {
          await state.sleep(op.holdMs);
          await held.assertHeld();
          event('ok');
        } finally {
          event('rel');
          await guard('release', () => held.release());
        }
      }
    } catch (error) {
      if (error?.code === 'ESIMDEAD') return;
      event('failed', {
        op: op.k,
        id: op.id ?? null,
        code: error?.code ?? 'none',
        where: error?.where ?? 'op',
        message: String(error?.message ?? error),
      });
    }
  }
  event('task-done');
}

/** Marks errors of lock() and release() so the world can tell them from the operation's own. */
async function guard(where, fn) {
  try {
    return await fn();
  } catch (error) {
    if (error && typeof error === 'object') error.where = where;
    throw error;
  }
}

/** Runs when this thread has nothing left to do: reports idle, then runs the world's next command. */
function serve() {
  let next = null;
  if (run && !run.dead) for (const timer of run.timers) if (next === null || timer.due < next) next = timer.due;
  send({ t: 'idle', next });
  const message = recv();
  if (message.t === 'start') {
    if (run) run.dead = true;
    run = makeRun(message.epoch, message.proc, message.seed);
    run.mono = message.mono;
    run.wall = message.wall;
    usePlatform(run.platform);
    const state = run;
    message.plan.tasks.forEach((ops, task) => {
      runTask(state, message.plan, task, ops).catch((error) => {
        if (error?.code !== 'ESIMDEAD') throw error;
      });
    });
  } else if (message.t === 'timer') {
    run.mono = message.mono;
    run.wall = message.wall;
    run.fireNext();
  } else if (message.t === 'end') {
    if (run) run.dead = true;
  }
  // Whatever that started runs in microtasks (its file-system calls are synchronous requests);
  // an immediate runs only once they are all done.
  setImmediate(serve);
}

setImmediate(serve);
