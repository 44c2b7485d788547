/**
 * The deterministic NFS simulation: a world of simulated processes (worker threads running
 * efs-utils' real code, see process-worker.mjs) on simulated hosts over one simulated NFS
 * server (nfs.ts). The world runs one thing at a time and chooses every interleaving from
 * the seed: which pending request executes next, which due timer fires, how long a request
 * is delayed (possibly past any lease), whether its reply is lost (the retry then reports
 * ENOENT/EEXIST), when a process is frozen (its monotonic clock stops) and for how long.
 *
 * Invariants, checked after every step:
 * - exclusion: the windows in which tasks held a lock (from their first to their last successful
 *   assertHeld or commit) never overlap when one of them is exclusive;
 * - appends: every acknowledged line is in the file exactly once, and every line is whole;
 * - atomicWriteFile: acknowledged versions increase, and the file never holds an older one
 *   than the newest acknowledged;
 * - current (the releases workload): always a symlink to a whole release, and never an older one
 *   than the newest acknowledged switch;
 * - lock() and release() fail only with efs-utils' own errors, and nobody waits forever;
 * - liveness (the dead-holder workload): a writer waiting behind a holder that was killed gets
 *   the lock within `livenessBoundMs` of the later of its request and the kill.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createLane, recv, send } from './channel.mjs';
import { Client, Server, SimError, type OpenFile } from './nfs.js';
import { Prng } from './prng.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Fault and workload knobs of one run; `configFor(seed)` derives them from the seed. */
export interface SimConfig {
  readonly processes: number;
  readonly tasksPerProcess: number;
  readonly opsPerTask: number;
  readonly staleMs: number;
  /** Op mix weights (`release`: build a release and switch `current` to it, under `current`'s lock). */
  readonly mix: { append: number; read: number; rmw: number; hold: number; release?: number };
  readonly lookupTtlMs: number;
  readonly listingTtlMs: number;
  /** Probability that a request's reply is lost after it executed (the retry's answer wins). */
  readonly lostReply: number;
  /** Probability that a request is delayed, and by up to how long. */
  readonly delay: number;
  readonly maxDelayMs: number;
  /** Probability per step that a process is frozen, and for up to how long. */
  readonly freeze: number;
  readonly maxFreezeMs: number;
  /**
   * Whether a freeze may also stop a process in the middle of a synchronous sequence of calls
   * (between a commit's last check and its WRITE). Lambda freezes only between invocations; a
   * SIGSTOP can hit anywhere, and there the protocol cannot stop a late WRITE (see README).
   */
  readonly freezeMidCall: boolean;
  readonly maxSteps: number;
  /**
   * `random`: every process runs random ops. `dead-holder`: P0 takes the lock (mostly shared)
   * and is killed while holding it, P1 then asks for the exclusive lock with a long timeout,
   * and the other processes keep reading (shared) around them.
   */
  readonly workload: 'random' | 'dead-holder';
  /** The dead-holder workload's bound on the writer's wait, from the later of its request and the kill. */
  readonly livenessBoundMs: number;
}

/**
 * Fault profiles that isolate one finding of issue 12 each (`random` mixes everything):
 * F1 shared mode without faults, F2 long-lived lookup caches, F3 delayed requests,
 * F4 frozen processes, F5 lost replies; F7 a holder killed while holding the lock (mostly
 * shared) with a writer waiting and readers coming, over caches and lost replies (F6 is the
 * in-process queue, a unit test); `releases` the model-release switch (atomicMove of a staged
 * release, then switchSymlink of `current`) among appends and holders, with every fault.
 */
export type Profile = 'random' | 'F1' | 'F2' | 'F3' | 'F4' | 'F5' | 'F7' | 'F8' | 'releases';

export function profileConfig(profile: Profile, seed: number): SimConfig {
  const base = configFor(seed);
  const none = { lookupTtlMs: 0, listingTtlMs: 0, lostReply: 0, delay: 0, freeze: 0 };
  switch (profile) {
    case 'random':
      return base;
    case 'F1':
      return { ...base, ...none, processes: 3, tasksPerProcess: 2, mix: { append: 2, read: 3, rmw: 0, hold: 1 } };
    case 'F2':
      return {
        ...base,
        ...none,
        processes: 4,
        tasksPerProcess: 1,
        opsPerTask: 6,
        lookupTtlMs: base.staleMs * 5,
        listingTtlMs: 0,
        mix: { append: 2, read: 0, rmw: 0, hold: 3 },
      };
    case 'F3':
      return { ...base, ...none, processes: 3, delay: 0.03, maxDelayMs: base.staleMs * 3, mix: { append: 4, read: 0, rmw: 1, hold: 1 } };
    case 'F4':
      return { ...base, ...none, processes: 3, freeze: 0.01, freezeMidCall: true, mix: { append: 2, read: 0, rmw: 1, hold: 2 } };
    case 'F5':
      return { ...base, ...none, processes: 3, lostReply: 0.05, mix: { append: 2, read: 2, rmw: 1, hold: 1 } };
    case 'releases':
      return { ...base, mix: { append: 1, read: 0, rmw: 0, hold: 1, release: 3 } };
    case 'F8':
      // Shared mode (writers draining readers) with processes stopped anywhere, also between
      // a check and the request it guards (a preempted or SIGSTOPped process).
      return {
        ...base,
        ...none,
        processes: 3,
        tasksPerProcess: 2,
        freeze: 0.01,
        freezeMidCall: true,
        mix: { append: 2, read: 3, rmw: 0, hold: 1 },
      };
    case 'F7':
      // Within the fault model, without delays and freezes: those may cost a waiting writer its
      // reservation (it renews late) and then any bound on its wait is arbitrary.
      return { ...base, delay: 0, freeze: 0, processes: Math.max(base.processes, 3), workload: 'dead-holder' };
  }
}

export function configFor(seed: number): SimConfig {
  const rng = new Prng(seed ^ 0x5eed);
  const staleMs = 200;
  const faults = rng.int(0, 3); // 0: none, 1: caches, 2: caches+lost+delays, 3: everything
  const config: SimConfig = {
    processes: rng.int(2, 4),
    tasksPerProcess: rng.int(1, 2),
    opsPerTask: rng.int(2, 5),
    staleMs,
    mix: rng.pick([
      { append: 4, read: 2, rmw: 1, hold: 1 },
      { append: 1, read: 4, rmw: 0, hold: 1 },
      { append: 2, read: 0, rmw: 2, hold: 1 },
    ]),
    lookupTtlMs: faults >= 1 ? rng.pick([0, 50, staleMs * 3]) : 0,
    listingTtlMs: faults >= 1 ? rng.pick([0, 30, staleMs]) : 0,
    lostReply: faults >= 2 ? rng.pick([0, 0.02, 0.1]) : 0,
    delay: faults >= 2 ? rng.pick([0, 0.01, 0.03]) : 0,
    // Within staleMs / 2 (the rule for what the fence does not cover), or beyond it (below).
    maxDelayMs: staleMs * 0.45,
    freeze: faults >= 3 ? rng.pick([0.002, 0.01]) : 0,
    maxFreezeMs: staleMs * 3,
    freezeMidCall: false,
    maxSteps: 20_000,
    workload: 'random',
    // Up to staleMs of cached listings before the dead holder's current name shows, staleMs
    // watching it, then the readers that got in first: each holds at most staleMs, and one
    // whose release missed its entry (moved into the reservation, behind a cached listing)
    // leaves it to be reaped like a dead one. Room for retries on top of that.
    livenessBoundMs: staleMs * 5,
  };
  // Drawn last, so that the draws above (and the seeds kept for them) stay as they were. With
  // the fence, appends and atomic writes stay safe beyond the fault model: requests delayed past
  // any lease (a hard mount retransmitting) and freezes between a commit's check and its write.
  return {
    ...config,
    maxDelayMs: faults >= 2 && rng.chance(0.5) ? staleMs * 3 : config.maxDelayMs,
    freezeMidCall: faults >= 3 && rng.chance(0.5),
  };
}

export interface SimResult {
  readonly seed: number;
  readonly violations: string[];
  readonly steps: number;
  readonly trace: string[];
  readonly acked: number;
  /** Acknowledged switches of `current` (the releases workload). */
  readonly switched: number;
}

/** Builds the library from src once into a private directory the worker threads import. */
export function buildLibrary(): string {
  // EFS_SIM_LIB: run another build (for example the protocol before a fix) against the simulation.
  if (process.env.EFS_SIM_LIB) return process.env.EFS_SIM_LIB;
  const outDir = join(packageDir, 'node_modules', '.cache', 'efs-utils-sim');
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  const marker = join(outDir, 'index.js');
  if (!existsSync(marker) || statSync(marker).mtimeMs < newest(join(packageDir, 'src'))) {
    mkdirSync(outDir, { recursive: true });
    execFileSync(
      process.execPath,
      [
        join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        outDir,
        '--declaration',
        'false',
      ],
      {
        cwd: packageDir,
        stdio: 'inherit',
      },
    );
  }
  return outDir;
}

type Message = { t: 'call'; op: string; args: unknown[]; seq: number } | { t: 'idle'; next: number | null };

/** A worker thread that plays one simulated process per run; talks to it synchronously. */
class ProcessThread {
  readonly worker: Worker;
  readonly #down = createLane();
  readonly #up = createLane();
  #ready = false;

  constructor(libDir: string) {
    this.worker = new Worker(new URL('./process-worker.mjs', import.meta.url), { workerData: { libDir, down: this.#down, up: this.#up } });
    this.worker.on('error', (error) => {
      process.stderr.write(`simulated process thread crashed: ${String(error.stack ?? error)}\n`);
    });
  }

  /** Waits for the thread's first report (it has loaded the library). */
  ready(): void {
    if (this.#ready) return;
    const message = this.recv();
    if (message.t !== 'idle') throw new Error(`unexpected first message ${message.t}`);
    this.#ready = true;
  }

  recv(): Message {
    return recv(this.#up, 60_000) as Message;
  }

  send(value: unknown): void {
    send(this.#down, value);
  }
}

/** A pool of process threads, reused run after run. */
export class SimPool {
  readonly #threads: ProcessThread[] = [];
  readonly #libDir: string;
  #epoch = 0;

  constructor(libDir = buildLibrary()) {
    this.#libDir = libDir;
  }

  async run(seed: number, config: SimConfig = configFor(seed)): Promise<SimResult> {
    while (this.#threads.length < config.processes) this.#threads.push(new ProcessThread(this.#libDir));
    const epoch = ++this.#epoch;
    const threads = this.#threads.slice(0, config.processes);
    for (const thread of threads) thread.ready();
    const world = new World(seed, config, threads, epoch);
    try {
      return world.run();
    } finally {
      world.end();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.worker.terminate()));
  }
}

type ProcState = 'running' | 'blocked' | 'idle' | 'done';

interface Proc {
  readonly id: number;
  readonly thread: ProcessThread;
  readonly client: Client;
  readonly wallOffsetMs: number;
  state: ProcState;
  pending: { op: string; args: unknown[]; seq: number } | undefined;
  releaseAt: number;
  nextTimer: number | null;
  frozenAt: number;
  frozenUntil: number;
  frozenTotal: number;
  tasksLeft: number;
  /** Killed (the dead-holder workload): never runs again, its timers never fire, its lease is not renewed. */
  crashed: boolean;
  readonly fds: Map<number, OpenFile>;
  nextFd: number;
}

interface Section {
  readonly key: string;
  readonly on: string;
  readonly mode: string;
  start: number;
  end: number;
  open: boolean;
}

const LINE = /^a(\d+)-(\d+):x{8}$/;
const ALLOWED_LOCK_ERRORS = new Set(['ELOCKTIMEOUT', 'ELOCKCOMPROMISED']);

class World {
  readonly #rng: Prng;
  readonly #config: SimConfig;
  readonly #server = new Server();
  readonly #procs: Proc[];
  readonly #epoch: number;
  readonly #seed: number;
  #now = 0;
  #step = 0;
  readonly #trace: string[] = [];
  readonly violations: string[] = [];
  readonly #sections: Section[] = [];
  readonly #acked = new Set<string>();
  readonly #versions: number[] = [];
  /** Acknowledged switches of `current`, by release version. */
  readonly #switched: number[] = [];
  /** Writers of the dead-holder workload still waiting for the lock: task key → when they asked. */
  readonly #waitingWriters = new Map<string, number>();
  #crashedAt: number | undefined;
  #checkedData = -1;
  readonly #dir: string;

  constructor(seed: number, config: SimConfig, threads: ProcessThread[], epoch: number) {
    this.#seed = seed;
    this.#rng = new Prng(seed);
    this.#config = config;
    this.#epoch = epoch;
    this.#dir = `/efs/run${epoch}`;
    this.#server.mkdir(1, 'efs');
    this.#server.mkdir(this.#server.lookup(1, 'efs'), `run${epoch}`);
    // Only for the release workload: an extra directory changes every other seed's listings.
    if ((config.mix.release ?? 0) > 0) this.#server.mkdir(this.#server.lookup(this.#server.lookup(1, 'efs'), `run${epoch}`), 'releases');
    this.#procs = threads.map((thread, id) => ({
      id,
      thread,
      client: new Client(this.#server, { lookupTtlMs: config.lookupTtlMs, listingTtlMs: config.listingTtlMs }),
      wallOffsetMs: this.#rng.int(-60_000, 60_000),
      state: 'running',
      pending: undefined,
      releaseAt: 0,
      nextTimer: null,
      frozenAt: 0,
      frozenUntil: 0,
      frozenTotal: 0,
      tasksLeft: config.tasksPerProcess,
      crashed: false,
      fds: new Map(),
      nextFd: 3,
    }));
  }

  #mono(proc: Proc): number {
    const frozenNow = proc.frozenUntil > proc.frozenAt ? Math.max(0, Math.min(this.#now, proc.frozenUntil) - proc.frozenAt) : 0;
    return this.#now - proc.frozenTotal - frozenNow;
  }

  #frozen(proc: Proc): boolean {
    return this.#now < proc.frozenUntil;
  }

  #log(line: string): void {
    this.#trace.push(`#${this.#step} t=${this.#now.toFixed(2)} ${line}`);
  }

  #plan(proc: Proc): unknown {
    if (this.#config.workload === 'dead-holder') return this.#deadHolderPlan(proc);
    const { mix, opsPerTask, tasksPerProcess } = this.#config;
    const kinds = (Object.entries(mix) as [string, number][]).flatMap(([kind, weight]) => Array<string>(weight).fill(kind));
    const tasks = [];
    let n = 0;
    for (let task = 0; task < tasksPerProcess; task++) {
      const ops = [];
      for (let i = 0; i < opsPerTask; i++) {
        const k = this.#rng.pick(kinds);
        const id = `a${proc.id}-${n++}`;
        const holdMs = this.#rng.pick([0, 0, 1, 20, this.#config.staleMs]);
        if (k === 'append') ops.push({ k, id, line: `${id}:xxxxxxxx`, own: this.#rng.chance(0.3) });
        else if (k === 'hold') ops.push({ k, holdMs, mode: this.#rng.pick(['exclusive', 'shared']) });
        else ops.push({ k, holdMs });
      }
      tasks.push(ops);
    }
    return { ...this.#paths(), staleMs: this.#config.staleMs, tasks };
  }

  #paths(): { file: string; register: string; current: string; releases: string; dir: string } {
    const dir = this.#dir;
    return { file: `${dir}/content`, register: `${dir}/register`, current: `${dir}/current`, releases: `${dir}/releases`, dir };
  }

  /** P0 dies holding the lock, P1 waits for it exclusively, the others keep reading. */
  #deadHolderPlan(proc: Proc): unknown {
    const { staleMs, opsPerTask, tasksPerProcess } = this.#config;
    const rng = this.#rng;
    let tasks: unknown[][];
    if (proc.id === 0) {
      const mode = rng.pick(['shared', 'shared', 'shared', 'exclusive']);
      tasks = [[{ k: 'die', mode, rounds: rng.int(0, 4), holdMs: rng.pick([1, 20, staleMs / 2, staleMs]) }]];
    } else if (proc.id === 1) {
      // Half the time the writer is already waiting when the holder is killed.
      const id = `a${proc.id}-0`;
      const waitMs = rng.chance(0.5) ? rng.int(0, staleMs / 2) : rng.int(0, staleMs * 2);
      tasks = [
        [
          { k: 'wait', ms: waitMs },
          { k: 'writer', id, line: `${id}:xxxxxxxx`, timeoutMs: staleMs * 20 },
        ],
      ];
    } else {
      tasks = Array.from({ length: tasksPerProcess }, () => [
        { k: 'wait', ms: rng.int(0, staleMs) },
        ...Array.from({ length: opsPerTask * 2 }, () => ({ k: 'read', holdMs: rng.pick([0, 1, 20, staleMs / 2]) })),
      ]);
    }
    proc.tasksLeft = tasks.length;
    return { ...this.#paths(), staleMs, tasks };
  }

  run(): SimResult {
    for (const proc of this.#procs) {
      proc.thread.send({
        t: 'start',
        epoch: this.#epoch,
        seed: this.#seed,
        proc: proc.id,
        plan: this.#plan(proc),
        mono: 0,
        wall: proc.wallOffsetMs,
      });
      this.#await(proc);
    }
    while (this.violations.length === 0 && this.#step < this.#config.maxSteps) {
      if (this.#procs.every((proc) => proc.state === 'done' || proc.crashed)) break;
      this.#maybeFreeze();
      const choices: (() => void)[] = [];
      for (const proc of this.#procs) {
        if (proc.crashed) continue;
        // An event is the workload reporting what the library already returned (before any
        // freeze that comes after it): it is recorded even while the process is frozen.
        if (this.#frozen(proc) && proc.pending?.op !== 'event') continue;
        if (proc.state === 'blocked' && proc.releaseAt <= this.#now) choices.push(() => this.#execute(proc));
        if (this.#frozen(proc)) continue;
        // A hair of tolerance: the clock jump in #advance goes through floating-point arithmetic.
        if (proc.state === 'idle' && proc.nextTimer !== null && proc.nextTimer <= this.#mono(proc) + 1e-6)
          choices.push(() => this.#fire(proc));
      }
      if (choices.length === 0) {
        if (!this.#advance()) {
          this.violations.push('stuck: tasks are waiting but nothing can happen (a promise that never settles)');
          break;
        }
        continue;
      }
      this.#step += 1;
      this.#rng.pick(choices)();
      this.#checkData();
      this.#checkCurrent();
      this.#checkLiveness();
    }
    if (this.violations.length === 0 && this.#step >= this.#config.maxSteps) {
      const left = this.#procs.filter((proc) => proc.state !== 'done' && !proc.crashed).map((proc) => `P${proc.id}`);
      this.violations.push(`no progress: ${left.join(', ')} still running after ${this.#step} steps`);
    }
    return {
      seed: this.#seed,
      violations: this.violations,
      steps: this.#step,
      trace: this.#trace,
      acked: this.#acked.size,
      switched: this.#switched.length,
    };
  }

  /** Ends the run: a blocked process's call fails with ESIMDEAD, then every thread is told to stop. */
  end(): void {
    for (const proc of this.#procs) {
      if (proc.state === 'running') throw new Error(`P${proc.id} is still running`);
      if (proc.state === 'blocked') {
        proc.thread.send({ dead: true, mono: this.#mono(proc), wall: 0 });
        while (proc.thread.recv().t !== 'idle') proc.thread.send({ dead: true, mono: 0, wall: 0 });
      }
      proc.thread.send({ t: 'end' });
      while (proc.thread.recv().t !== 'idle') proc.thread.send({ dead: true, mono: 0, wall: 0 });
    }
  }

  /** Jumps the clock to the next thing that can happen; false when nothing ever will. */
  #advance(): boolean {
    let next = Infinity;
    for (const proc of this.#procs) {
      if (proc.state === 'done' || proc.crashed) continue;
      if (this.#frozen(proc)) {
        next = Math.min(next, proc.frozenUntil);
        continue;
      }
      if (proc.state === 'blocked') next = Math.min(next, proc.releaseAt);
      if (proc.state === 'idle' && proc.nextTimer !== null) next = Math.min(next, this.#now + (proc.nextTimer - this.#mono(proc)));
    }
    if (!Number.isFinite(next)) return false;
    this.#setNow(Math.max(next, this.#now) + 1e-6);
    return true;
  }

  #setNow(now: number): void {
    this.#now = now;
    for (const proc of this.#procs) {
      if (proc.frozenUntil > proc.frozenAt && now >= proc.frozenUntil) {
        proc.frozenTotal += proc.frozenUntil - proc.frozenAt;
        proc.frozenAt = proc.frozenUntil = 0;
        this.#log(`P${proc.id} thawed`);
      }
    }
  }

  #maybeFreeze(): void {
    if (this.#config.freeze === 0 || !this.#rng.chance(this.#config.freeze)) return;
    const proc = this.#rng.pick(this.#procs);
    if (proc.state === 'done' || proc.crashed || this.#frozen(proc)) return;
    if (proc.state === 'blocked' && !this.#config.freezeMidCall) return;
    proc.frozenAt = this.#now;
    proc.frozenUntil = this.#now + this.#rng.int(1, this.#config.maxFreezeMs);
    this.#log(`P${proc.id} frozen until t=${proc.frozenUntil.toFixed(2)} (its monotonic clock stops)`);
  }

  #await(proc: Proc): void {
    const message = proc.thread.recv();
    if (message.t === 'call') {
      proc.state = 'blocked';
      proc.pending = { op: message.op, args: message.args, seq: message.seq };
      proc.releaseAt = this.#now;
      if (message.op === 'event' && message.args[0] === 'crash') {
        // SIGKILL: the call is never answered, nothing of the process runs again.
        proc.crashed = true;
        this.#crashedAt = this.#now;
        this.#log(`P${proc.id} killed while holding the lock`);
        return;
      }
      if (isRpc(message.op) && this.#config.delay > 0 && this.#rng.chance(this.#config.delay)) {
        proc.releaseAt = this.#now + this.#rng.int(1, this.#config.maxDelayMs);
        this.#log(`P${proc.id} ${describeCall(message.op, message.args)} delayed until t=${proc.releaseAt.toFixed(2)}`);
      }
    } else if (message.t === 'idle') {
      proc.state = proc.tasksLeft === 0 ? 'done' : 'idle';
      proc.nextTimer = message.next;
    }
  }

  #fire(proc: Proc): void {
    this.#log(`P${proc.id} timer`);
    proc.state = 'running';
    proc.thread.send({ t: 'timer', mono: this.#mono(proc), wall: this.#wall(proc) });
    this.#await(proc);
  }

  #wall(proc: Proc): number {
    return 1_700_000_000_000 + this.#now + proc.wallOffsetMs;
  }

  #execute(proc: Proc): void {
    const call = proc.pending;
    if (call === undefined) throw new Error('no pending call');
    proc.pending = undefined;
    proc.state = 'running';
    if (isRpc(call.op)) this.#setNow(this.#now + 0.1 + this.#rng.next());
    proc.client.now = this.#now;
    this.#server.now = this.#wall(proc);
    let reply: { value?: unknown; error?: { code: string; message: string } };
    try {
      reply = { value: this.#perform(proc, call.op, call.args) };
    } catch (error) {
      if (!(error instanceof SimError)) throw error;
      reply = { error: { code: error.code, message: error.message } };
    }
    if (call.op !== 'event')
      this.#log(`P${proc.id} ${describeCall(call.op, call.args)} → ${reply.error ? reply.error.code : short(reply.value)}`);
    proc.thread.send({ ...reply, seq: call.seq, mono: this.#mono(proc), wall: this.#wall(proc) });
    this.#await(proc);
  }

  /** One request as the client and server handle it, with a lost reply's retry and ESTALE's. */
  #perform(proc: Proc, op: string, args: unknown[]): unknown {
    if (op === 'event') return this.#event(proc, args[0] as string, args[1] as Record<string, unknown>);
    const attempt = (): unknown => {
      try {
        return this.#request(proc, op, args);
      } catch (error) {
        if (!(error instanceof SimError) || error.code !== 'ESTALE' || BY_HANDLE.has(op)) throw error;
        proc.client.forget(); // the kernel retries once with fresh lookups (a request by file handle fails)
        return this.#request(proc, op, args);
      }
    };
    const value = attempt();
    if (NOT_IDEMPOTENT.has(op) && this.#config.lostReply > 0 && this.#rng.chance(this.#config.lostReply)) {
      this.#log(`P${proc.id} ${op} executed, reply lost: retransmitted`);
      return attempt();
    }
    return value;
  }

  #request(proc: Proc, op: string, args: unknown[]): unknown {
    const client = proc.client;
    const server = this.#server;
    const path = (i: number): string => args[i] as string;
    switch (op) {
      case 'rename': {
        const from = client.resolve(path(0), true, false);
        const to = client.resolve(path(1), false, false);
        server.rename(from.dir, from.name, to.dir, to.name);
        client.changed(from.dir, from.name, 0);
        client.changed(to.dir, to.name, from.ino);
        return undefined;
      }
      case 'readdir':
        return client.readdir(client.resolve(path(0), true, false).ino);
      case 'rmdir':
      case 'unlink': {
        const at = client.resolve(path(0), false, false);
        if (op === 'rmdir') server.rmdir(at.dir, at.name);
        else server.unlink(at.dir, at.name);
        client.changed(at.dir, at.name, 0);
        return undefined;
      }
      case 'mkdir':
      case 'symlink': {
        const at = client.resolve(path(op === 'mkdir' ? 0 : 1), false, false);
        const ino = op === 'mkdir' ? server.mkdir(at.dir, at.name) : server.symlink(at.dir, at.name, path(0));
        client.changed(at.dir, at.name, ino);
        return undefined;
      }
      case 'lstat':
        return server.getattr(client.resolve(path(0), true, false).ino);
      case 'exists':
        try {
          client.resolve(path(0), true, false);
          return true;
        } catch (error) {
          if (error instanceof SimError) return false;
          throw error;
        }
      case 'open': {
        // A number: O_WRONLY | O_APPEND without O_CREAT (efs-utils' APPEND_EXISTING).
        const flags = typeof args[1] === 'number' ? 'a-existing' : (args[1] as string);
        const at = client.resolve(path(0), false, false);
        let ino: number;
        if (flags === 'r' || flags === 'a-existing') ino = client.lookup(at.dir, at.name, true);
        else {
          ino = server.create(at.dir, at.name, flags === 'wx', (args[2] as number) ?? 0o666);
          client.changed(at.dir, at.name, ino);
        }
        const size = server.getattr(ino).size; // close-to-open: the size as of this open
        const fd = proc.nextFd++;
        const append = flags === 'a' || flags === 'a-existing';
        proc.fds.set(fd, { ino, position: append ? size : 0, append, pending: [] });
        return fd;
      }
      case 'write': {
        const file = this.#fd(proc, args[0]);
        const data = Buffer.from(args[1] as Uint8Array);
        const offset = args[2] === null || file.append ? file.position : (args[2] as number);
        file.pending.push({ offset, data });
        file.position = offset + data.length;
        return data.length;
      }
      case 'flush':
      case 'close': {
        const file = this.#fd(proc, args[0]);
        const writes = file.pending;
        file.pending = [];
        try {
          for (const write of writes) server.write(file.ino, write.offset, write.data);
        } finally {
          // close releases the descriptor even when it reports an error (ESTALE for a removed file)
          if (op === 'close') proc.fds.delete(args[0] as number);
        }
        return undefined;
      }
      case 'fchmod':
        server.chmod(this.#fd(proc, args[0]).ino, args[1] as number);
        return undefined;
      case 'fstat':
        return server.getattr(this.#fd(proc, args[0]).ino);
      case 'readFile': {
        const at = client.resolve(path(0), false, false);
        const data = server.read(client.lookup(at.dir, at.name, true));
        return args[1] === 'utf8' ? data.toString('utf8') : Buffer.from(data);
      }
      default:
        throw new Error(`unknown simulated call ${op}`);
    }
  }

  #fd(proc: Proc, fd: unknown): OpenFile {
    return (
      proc.fds.get(fd as number) ??
      (() => {
        throw new SimError('EBADF', `fd ${String(fd)}`);
      })()
    );
  }

  #event(proc: Proc, type: string, data: Record<string, unknown>): undefined {
    const key = `P${proc.id}.${String(data.task)}`;
    this.#log(`P${proc.id} task ${String(data.task)}: ${type} ${JSON.stringify(data)}`);
    const current = (): Section | undefined => this.#sections.findLast((section) => section.key === key && section.open);
    switch (type) {
      case 'acq':
        this.#waitingWriters.delete(key);
        // A holding window counts from its first validated point (a successful assertHeld or
        // commit): a process frozen right after lock() resolved holds nothing it can use.
        this.#sections.push({ key, on: data.on as string, mode: data.mode as string, start: -1, end: -1, open: true });
        break;
      case 'ok':
      case 'acked':
      case 'awf': {
        if (type === 'acked') this.#acked.add(data.id as string);
        if (type === 'awf') {
          const version = data.version as number;
          const newest = this.#versions.at(-1) ?? 0;
          if (version <= newest)
            this.violations.push(`lost update: ${key} acknowledged register version ${version} after version ${newest}`);
          this.#versions.push(version);
        }
        this.#validated(current());
        break;
      }
      case 'switched': {
        const version = data.version as number;
        const newest = this.#switched.at(-1) ?? 0;
        if (version <= newest) this.violations.push(`lost update: ${key} acknowledged switching current to v${version} after v${newest}`);
        this.#switched.push(version);
        this.#validated(current());
        break;
      }
      case 'asked':
        this.#waitingWriters.set(key, this.#now);
        break;
      case 'rel': {
        const section = current();
        if (section) section.open = false;
        break;
      }
      case 'failed':
        if (data.where === 'lock' && this.#waitingWriters.delete(key)) {
          this.violations.push(
            `${key}: the writer waiting behind a killed holder was never admitted: lock() failed with ${String(data.code)}`,
          );
        }
        if ((data.where === 'lock' || data.where === 'release') && !ALLOWED_LOCK_ERRORS.has(data.code as string)) {
          this.violations.push(
            `${key}: ${String(data.where)}() failed with ${String(data.code)} (${String(data.message)}), not an efs-utils error`,
          );
        }
        break;
      case 'task-done':
        proc.tasksLeft -= 1;
        break;
      default:
        break;
    }
    return undefined;
  }

  /** A successful check or commit: the task's holding window extends to this step. */
  #validated(section: Section | undefined): void {
    if (section === undefined) return;
    if (section.start < 0) section.start = this.#step;
    section.end = this.#step;
    this.#checkOverlap(section);
  }

  #checkOverlap(section: Section): void {
    for (const other of this.#sections) {
      if (other === section || other.key === section.key || other.on !== section.on || other.start < 0) continue;
      if (section.mode === 'shared' && other.mode === 'shared') continue;
      if (other.start <= section.end && other.end >= section.start) {
        this.violations.push(
          `exclusion broken on ${section.on}: ${section.key} (${section.mode}, steps ${section.start}-${section.end}) and ${other.key} (${other.mode}, steps ${other.start}-${other.end}) both held it`,
        );
      }
    }
  }

  /** A writer waiting behind a killed holder gets the lock within the bound. */
  #checkLiveness(): void {
    if (this.#crashedAt === undefined) return;
    for (const [key, askedAt] of this.#waitingWriters) {
      const waitedMs = this.#now - Math.max(askedAt, this.#crashedAt);
      if (waitedMs > this.#config.livenessBoundMs) {
        this.violations.push(
          `${key}: the writer has waited ${waitedMs.toFixed(0)} ms since the holder was killed (bound ${this.#config.livenessBoundMs} ms, staleMs ${this.#config.staleMs})`,
        );
        this.#waitingWriters.delete(key);
      }
    }
  }

  /** `current`, when there, names a whole release (both files, their full content), never an older one than acknowledged. */
  #checkCurrent(): void {
    if ((this.#config.mix.release ?? 0) === 0) return;
    const link = this.#server.resolveFresh(`${this.#dir}/current`);
    if (link === undefined) return;
    let target: string;
    try {
      target = this.#server.readlink(link);
    } catch {
      this.violations.push('current is not a symlink');
      return;
    }
    const match = /^releases\/v(\d+)$/.exec(target);
    if (!match) {
      this.violations.push(`current points at ${JSON.stringify(target)}, not a release`);
      return;
    }
    const version = Number(match[1]);
    const manifest = this.#server.contentOf(`${this.#dir}/${target}/manifest`)?.toString('utf8');
    const data = this.#server.contentOf(`${this.#dir}/${target}/data`)?.toString('utf8');
    if (manifest !== `v${version}\n` || data !== `payload of v${version}\n`) {
      this.violations.push(
        `current points at ${target}, which is not a whole release (manifest ${JSON.stringify(manifest)}, data ${JSON.stringify(data)})`,
      );
    }
    const newest = this.#switched.at(-1) ?? 0;
    if (version < newest) this.violations.push(`current is v${version}, older than acknowledged v${newest}`);
  }

  #checkData(): void {
    if (this.#server.dataVersion === this.#checkedData) return;
    this.#checkedData = this.#server.dataVersion;
    const content = this.#server.contentOf(`${this.#dir}/content`)?.toString('utf8') ?? '';
    const counts = new Map<string, number>();
    const lines = content.split('\n');
    const tail = lines.pop();
    for (const line of lines) {
      const match = LINE.exec(line);
      if (!match) {
        this.violations.push(`torn or mixed line in the file: ${JSON.stringify(line)}`);
        continue;
      }
      const id = line.slice(0, line.indexOf(':'));
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    if (tail !== '' && tail !== undefined) this.violations.push(`unterminated data at the end of the file: ${JSON.stringify(tail)}`);
    for (const [id, count] of counts) if (count > 1) this.violations.push(`line ${id} is in the file ${count} times`);
    for (const id of this.#acked) if (!counts.has(id)) this.violations.push(`acknowledged line ${id} is missing from the file`);
    const register = this.#server.contentOf(`${this.#dir}/register`)?.toString('utf8');
    const newest = this.#versions.at(-1) ?? 0;
    const version = register === undefined ? 0 : Number(register.trim().slice(1));
    if (version < newest) this.violations.push(`register holds v${version}, older than acknowledged v${newest}`);
  }
}

/** Requests by file handle: an ESTALE one is not retried by path. */
const BY_HANDLE = new Set(['write', 'flush', 'close', 'fchmod', 'fstat']);
const NOT_IDEMPOTENT = new Set(['rename', 'unlink', 'rmdir', 'mkdir', 'symlink']);
const RPCS = new Set([...NOT_IDEMPOTENT, 'readdir', 'lstat', 'exists', 'open', 'flush', 'close', 'readFile', 'fchmod', 'fstat']);

function isRpc(op: string): boolean {
  return RPCS.has(op);
}

function describeCall(op: string, args: unknown[]): string {
  return `${op}(${args.map((arg) => (typeof arg === 'string' ? arg.replace(/^\/efs\/run\d+\//, '') : arg instanceof Uint8Array ? JSON.stringify(Buffer.from(arg).toString('utf8')) : String(arg))).join(', ')})`;
}

function short(value: unknown): string {
  if (value === undefined) return 'ok';
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
