import { describe, expect, it } from 'vitest';

import { InfraError } from '../../src/errors.js';
import { parsePlanArgs } from '../../src/planner/args.js';
import { formatDuration, formatPlan } from '../../src/planner/format.js';
import { burstingBaselineKibps, burstingPeakMibps, planThroughput, sustains } from '../../src/planner/throughput.js';
import { throughputWarning } from '../../src/planner/workload-check.js';
import { fixtureConfig } from '../fixtures/config.js';

describe('the post\'s worked examples ("Understanding EFS Performance")', () => {
  const plan = planThroughput({ storedGib: 10, coldStartGib: 2, provisionedMibps: 10 });
  const post = plan.bursting.postArithmetic;

  it('earns a 10 GiB bursting file system credits at 500 KiB/s, the post\'s "baseline rate"', () => {
    expect(plan.bursting.creditAccrualKibps).toBe(500);
    expect(post.kibps).toBe(500);
  });

  it('moves 43,200,000 KiB a day at 500 KiB/s, which is 41.2 GiB (the post writes 43.2 GiB)', () => {
    expect(post.dailyKib).toBe(43_200_000);
    expect(post.dailyGib).toBeCloseTo(41.1987, 4);
    expect(post.postWritesGib).toBe(43.2);
    expect(plan.notes[0]).toContain('moves 43,200,000 KiB a day, which is 41.2 GiB');
    expect(plan.notes[0]).toContain('÷ 1,000,000, writes 43.2 GiB');
  });

  it('counts 20 cold starts of 2 GiB a day at 500 KiB/s ("about 20")', () => {
    expect(post.coldStartsPerDay).toBe(20);
    expect(plan.notes[0]).toContain('20 loads of 2 GiB');
  });

  it('moves 864,000 MiB a day at 10 MiB/s provisioned, which is 843.75 GiB (the post writes 864 GiB)', () => {
    expect(plan.provisioned.dailyKib).toBe(864_000 * 1024);
    expect(plan.provisioned.dailyGib).toBe(843.75);
    expect(plan.provisioned.postWritesDailyGib).toBe(864);
    expect(plan.notes[2]).toContain('864,000 MiB a day is 843.75 GiB');
    expect(plan.notes[2]).toContain('÷ 1,000, writes 864 GiB');
  });

  it('counts 421 cold starts of 2 GiB a day at 10 MiB/s provisioned (the post: "about 400")', () => {
    expect(plan.provisioned.coldStartsPerDay).toBe(421);
    expect(plan.notes[3]).toContain('"about 400"');
    expect(plan.notes[3]).toContain('exactly 20 and 421');
  });

  it('applies the 1 MiB/s floor the post added in July 2020: 10 GiB sustains 1,024 KiB/s, so 42 loads a day', () => {
    expect(plan.bursting.floorApplies).toBe(true);
    expect(plan.bursting.sustainedKibps).toBe(1024);
    expect(plan.bursting.dailyKib).toBe(88_473_600);
    expect(plan.bursting.coldStartsPerDay).toBe(42);
    expect(plan.notes[1]).toContain('its worked example predates it');
  });

  it('bursts at 100 MiB/s, so one 2 GiB load takes 20.48 s with credits and 34.1 minutes without', () => {
    expect(plan.bursting.peakMibps).toBe(100);
    expect(plan.bursting.loadSecondsAtPeak).toBeCloseTo(20.48, 10);
    expect(plan.bursting.loadSecondsSustained).toBeCloseTo(2048, 6);
  });
});

describe('planThroughput', () => {
  it('has no floor note once 50 KiB/s per GiB exceeds 1 MiB/s', () => {
    const plan = planThroughput({ storedGib: 100, coldStartGib: 2 });
    expect(plan.bursting.floorApplies).toBe(false);
    expect(plan.bursting.sustainedKibps).toBe(5000);
    expect(plan.bursting.coldStartsPerDay).toBe(plan.bursting.postArithmetic.coldStartsPerDay);
    expect(plan.notes.some((note) => note.startsWith('bursting today'))).toBe(false);
  });

  it('never lets the bursting baseline fall below 1 MiB/s (file systems under 20 GiB)', () => {
    expect(burstingBaselineKibps(0)).toBe(1024);
    expect(burstingBaselineKibps(1)).toBe(1024);
    expect(burstingBaselineKibps(20)).toBe(1024);
    expect(burstingBaselineKibps(21)).toBe(1050);
  });

  it('bursts at 100 MiB/s up to 1 TiB and at 100 MiB/s per TiB above', () => {
    expect(burstingPeakMibps(1024)).toBe(100);
    expect(burstingPeakMibps(2048)).toBe(200);
  });

  it('gives elastic mode no daily budget and no cold-start limit, and bills what the cold starts read', () => {
    const plan = planThroughput({ storedGib: 10, coldStartGib: 2, coldStartsPerDay: 50 });
    expect(plan.elastic.coldStartsPerDay).toBeNull();
    expect(plan.elastic.dailyKib).toBeNull();
    expect(plan.elastic.sustainsRequestedRate).toBe(true);
    expect(plan.elastic.meteredGibPerDay).toBe(100);
    expect(plan.elastic.peakMibps).toBe(1500);
  });

  it('never plans provisioned throughput below the bursting baseline the stored data earns', () => {
    const plan = planThroughput({ storedGib: 1000, coldStartGib: 1, provisionedMibps: 1 });
    expect(plan.provisioned.sustainedKibps).toBe(50_000);
  });

  it('computes the smallest whole provisioned MiB/s for a requested rate', () => {
    // 50 × 2 GiB a day = 102,400 MiB a day = 1.185 MiB/s → 2 MiB/s.
    const plan = planThroughput({ storedGib: 10, coldStartGib: 2, coldStartsPerDay: 50 });
    expect(plan.requiredProvisionedMibps).toBe(2);
    expect(plan.provisioned.provisionedMibps).toBe(2);
    expect(plan.provisioned.sustainsRequestedRate).toBe(true);
  });

  it('recommends bursting when bursting sustains the requested rate', () => {
    const plan = planThroughput({ storedGib: 10, coldStartGib: 2, coldStartsPerDay: 42 });
    expect(plan.bursting.sustainsRequestedRate).toBe(true);
    expect(plan.recommendation.mode).toBe('bursting');
  });

  it('recommends elastic, naming the provisioned alternative, when bursting falls short', () => {
    const plan = planThroughput({ storedGib: 10, coldStartGib: 2, coldStartsPerDay: 43 });
    expect(plan.bursting.sustainsRequestedRate).toBe(false);
    expect(plan.recommendation.mode).toBe('elastic');
    expect(plan.recommendation.reason).toContain('bursting sustains only 42 cold starts of 2 GiB a day');
    expect(plan.recommendation.reason).toContain('provisioned needs at least 2 MiB/s'); // 86 GiB a day = 1.02 MiB/s
  });

  it('recommends elastic when no rate is given', () => {
    expect(planThroughput({ storedGib: 10, coldStartGib: 2 }).recommendation.mode).toBe('elastic');
  });

  it('counts whole loads without floating-point loss', () => {
    // 0.1 GiB loads at 1 MiB/s: 86,400 MiB / 102.4 MiB = 843.75 → 843.
    expect(planThroughput({ storedGib: 1, coldStartGib: 0.1 }).bursting.coldStartsPerDay).toBe(843);
  });

  it.each([
    [{ storedGib: -1, coldStartGib: 2 }, 'storedGib'],
    [{ storedGib: 10, coldStartGib: 0 }, 'coldStartGib'],
    [{ storedGib: 10, coldStartGib: Number.NaN }, 'coldStartGib'],
    [{ storedGib: 10, coldStartGib: 2, coldStartsPerDay: -5 }, 'coldStartsPerDay'],
    [{ storedGib: 10, coldStartGib: 2, provisionedMibps: 0.5 }, 'provisionedMibps'],
  ])('refuses %j, naming %s', (input, name) => {
    expect(() => planThroughput(input)).toThrow(new RegExp(`^${name} must be`));
  });
});

describe('sustains and throughputWarning (the synth-time check)', () => {
  const workload = { storedGib: 10, coldStartGib: 2, coldStartsPerDay: 50 };
  const fileSystem = fixtureConfig().fileSystem;

  it('finds provisioned 10 MiB/s enough for 50 loads a day and bursting not', () => {
    const plan = planThroughput(workload);
    expect(sustains(plan, { mode: 'provisioned', mibps: 10 })).toEqual({ ok: true, coldStartsPerDay: 421 });
    expect(sustains(plan, { mode: 'bursting' })).toEqual({ ok: false, coldStartsPerDay: 42 });
  });

  it('warns when bursting cannot sustain the declared cold starts, saying what to set', () => {
    const warning = throughputWarning({ ...fileSystem, workload, throughput: { mode: 'bursting' } });
    expect(warning).toContain(
      'EFS throughput mode bursting sustains 42 cold starts of 2 GiB a day with 10 GiB stored, fewer than the 50 declared',
    );
    expect(warning).toContain("{ mode: 'provisioned', mibps: 2 }");
    expect(warning).toContain('plan-throughput --size-gib 10 --cold-start-gib 2 --cold-starts-per-day 50');
  });

  it('warns for provisioned throughput below the declared rate', () => {
    const warning = throughputWarning({
      ...fileSystem,
      workload: { storedGib: 10, coldStartGib: 2, coldStartsPerDay: 500 },
      throughput: { mode: 'provisioned', mibps: 10 },
    });
    expect(warning).toContain('provisioned at 10 MiB/s sustains 421 cold starts');
  });

  it('does not warn for elastic throughput or for a rate the mode sustains', () => {
    expect(throughputWarning({ ...fileSystem, workload, throughput: { mode: 'elastic' } })).toBeNull();
    expect(
      throughputWarning({ ...fileSystem, workload: { ...workload, coldStartsPerDay: 42 }, throughput: { mode: 'bursting' } }),
    ).toBeNull();
  });
});

describe("one cold start's reads: native libraries in the package or on EFS", () => {
  // This project's function: the float32 model (95.6 MB = 91.2 MiB) and onnxruntime-node + sharp
  // for linux x64 (63.7 MB = 60.7 MiB), as apps/ml-inference/BENCHMARKS.md measures them.
  const plan = planThroughput({
    storedGib: 10,
    coldStartGib: 0.15,
    provisionedMibps: 10,
    coldStartParts: { modelMib: 91.2, librariesMib: 60.7 },
  });

  it('reads the model alone with the libraries in the package, both with them on EFS', () => {
    expect(plan.coldStartReads?.map((reads) => [reads.libraries, reads.mib])).toEqual([
      ['package', 91.2],
      ['file-system', 151.9],
    ]);
  });

  it('times each read at the rate one client reaches in each mode: 100 MiB/s bursting, the provisioned rate, 1,500 MiB/s elastic', () => {
    const [packaged, onEfs] = plan.coldStartReads ?? [];
    expect(packaged?.loadSeconds.bursting).toBeCloseTo(0.912, 6);
    expect(onEfs?.loadSeconds.bursting).toBeCloseTo(1.519, 6);
    expect(packaged?.loadSeconds.provisioned).toBeCloseTo(9.12, 6);
    expect(onEfs?.loadSeconds.provisioned).toBeCloseTo(15.19, 6);
    expect(packaged?.loadSeconds.elastic).toBeCloseTo(91.2 / 1500, 9);
    expect(onEfs?.loadSeconds.elastic).toBeCloseTo(151.9 / 1500, 9);
  });

  it('prints both rows, and nothing of it without the parts', () => {
    const text = formatPlan(plan);
    expect(text).toMatch(/^in the package +91\.2 MiB +912 ms +9\.1 s +61 ms$/m);
    expect(text).toMatch(/^on EFS \(NODE_MODULES_DIR\) +151\.9 MiB +1\.5 s +15\.2 s +101 ms$/m);
    expect(formatPlan(planThroughput({ storedGib: 10, coldStartGib: 2 }))).not.toContain('native libraries');
    expect(planThroughput({ storedGib: 10, coldStartGib: 2 }).coldStartReads).toBeNull();
  });

  it('refuses negative parts', () => {
    expect(() => planThroughput({ storedGib: 10, coldStartGib: 1, coldStartParts: { modelMib: -1, librariesMib: 60 } })).toThrow(
      'coldStartParts.modelMib must be a finite number at least 0; got -1',
    );
  });
});

describe('plan-throughput command line', () => {
  it('parses the documented flags', () => {
    expect(parsePlanArgs(['--size-gib', '10', '--cold-start-gib', '2', '--provisioned-mibps', '10', '--json'])).toEqual({
      input: { storedGib: 10, coldStartGib: 2, coldStartsPerDay: null, provisionedMibps: 10, coldStartParts: null },
      json: true,
    });
    expect(
      parsePlanArgs(['--size-gib', '10', '--cold-start-gib', '0.16', '--model-mib', '91.2', '--libraries-mib', '60.7']).input
        .coldStartParts,
    ).toEqual({
      modelMib: 91.2,
      librariesMib: 60.7,
    });
  });

  it.each([
    [['--cold-start-gib', '2'], '--size-gib is required'],
    [['--size-gib', 'ten', '--cold-start-gib', '2'], '--size-gib must be a number (got "ten")'],
    [['--size-gib', '10', '--cold-start-gib', '2', '--bogus'], "Unknown option '--bogus'"],
    [['--size-gib', '10', '--cold-start-gib', '2', '--model-mib', '91'], '--model-mib and --libraries-mib go together'],
  ])('refuses %j with a usage error', (argv, message) => {
    let error: unknown;
    try {
      parsePlanArgs(argv);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InfraError);
    expect((error as InfraError).code).toBe('EUSAGE');
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain('usage: plan-throughput');
  });

  it("prints the post's figures in its table", () => {
    const text = formatPlan(planThroughput({ storedGib: 10, coldStartGib: 2, provisionedMibps: 10 }));
    expect(text).toMatch(/^bursting +1,024 KiB\/s +100 MiB\/s +88,473,600 KiB \(84\.38 GiB\) +42 +20\.5 s \/ 34\.1 min/m);
    expect(text).toMatch(/^ {2}\(the post's arithmetic\) +500 KiB\/s +43,200,000 KiB \(41\.2 GiB\) +20 +69\.9 min/m);
    expect(text).toMatch(/^provisioned +10 MiB\/s +10 MiB\/s +864,000 MiB \(843\.75 GiB\) +421 +3\.4 min/m);
    expect(text).toMatch(/^elastic +pay per GiB +1,500 MiB\/s +no daily budget +no limit/m);
    expect(text).toContain('Recommendation: elastic');
  });

  it('formats durations in seconds, minutes or hours', () => {
    expect(formatDuration(20.48)).toBe('20.5 s');
    expect(formatDuration(4194.304)).toBe('69.9 min');
    expect(formatDuration(90_000)).toBe('25 h');
  });
});
