/**
 * The EFS throughput arithmetic of the AWS post "A Shared File System for Your Lambda Functions"
 * ("Understanding EFS Performance"), as a pure function: for a file system of a given size and a
 * cold start that reads a given amount, how much each throughput mode moves in a day, how many
 * cold starts that is, how long one load takes, and which mode to pick.
 *
 * Units are binary throughout (KiB = 1024 B, MiB = 1024 KiB, GiB = 1024 MiB), as in EFS's own
 * documentation. The post mixes them: it writes 43.2 GiB for 43,200,000 KiB (dividing by 1,000 per
 * step) and rounds cold-start counts to round figures; {@link ThroughputPlan.notes} says where.
 *
 * Bursting has two rates. Credits accrue at 50 KiB/s per GiB stored: the post's "baseline rate",
 * which its worked example uses (10 GiB → 500 KiB/s → 20 loads of 2 GiB a day). Since the post's
 * July 2020 update, EFS never throttles a file system below 1 MiB/s, so what a small file system
 * sustains all day is max(1 MiB/s, 50 KiB/s per GiB) (10 GiB → 1,024 KiB/s → 42 loads). Plans and
 * warnings use the sustained rate; `bursting.postArithmetic` keeps the post's figures.
 */

/** How a file system's throughput is configured. */
export type ThroughputMode =
  | { readonly mode: 'elastic' }
  | { readonly mode: 'bursting' }
  | {
      readonly mode: 'provisioned';
      /** Provisioned throughput in MiB/s, 1 at least. */
      readonly mibps: number;
    };

export type ThroughputModeName = ThroughputMode['mode'];

/** EFS throughput rules (EFS user guide, "Amazon EFS performance"; the post's figures). */
export const EFS_THROUGHPUT = Object.freeze({
  /** Bursting baseline per GiB stored in the Standard storage class. */
  baselineKibpsPerGib: 50,
  /** Bursting baseline floor: 1 MiB/s, whatever the size (since July 2020). */
  minimumBaselineKibps: 1024,
  /** Every bursting file system bursts to 100 MiB/s at least... */
  burstMibps: 100,
  /** ...and to 100 MiB/s per TiB stored above 1 TiB. */
  burstMibpsPerTib: 100,
  /** Provisioned throughput starts at 1 MiB/s. */
  minimumProvisionedMibps: 1,
  /** Elastic: what one client (one Lambda execution environment) can read. */
  elasticPerClientMibps: 1500,
  /** A new bursting file system starts with 2.1 TiB of burst credits. */
  initialBurstCreditsTib: 2.1,
});

const KIB_PER_MIB = 1024;
const KIB_PER_GIB = 1024 * 1024;
const GIB_PER_TIB = 1024;
const SECONDS_PER_DAY = 86_400;
// Counts are whole loads rounded down; a tiny tolerance keeps 2.9999999999 from becoming 2.
const EPSILON = 1e-9;

/** What to plan for. */
export interface ThroughputPlanInput {
  /** Data stored in the Standard storage class, in GiB (what the bursting baseline is computed from). */
  readonly storedGib: number;
  /** Data one cold start reads from the file system (libraries, a model), in GiB. */
  readonly coldStartGib: number;
  /** How many cold starts a day the system must sustain; `null` when unknown. @default null */
  readonly coldStartsPerDay?: number | null;
  /**
   * Provisioned throughput to evaluate, in MiB/s.
   * @default the smallest that sustains `coldStartsPerDay`, or the post's 10 MiB/s when no rate is given
   */
  readonly provisionedMibps?: number | null;
  /**
   * What one cold start of the function reads, in MiB, to compare where its native libraries live:
   * in the deployment package (Lambda fetches them, EFS serves the model alone) or on EFS (the post's
   * way, NODE_MODULES_DIR: EFS serves both). @default null (no comparison)
   */
  readonly coldStartParts?: ColdStartParts | null;
}

/** The two parts of a cold start's reads, in MiB. */
export interface ColdStartParts {
  /** The model files one cold start reads (the function logs them: `bytesRead` of "model loaded"). */
  readonly modelMib: number;
  /** The native libraries (onnxruntime-node, sharp and their shared objects). */
  readonly librariesMib: number;
}

/** What one cold start reads from EFS with the native libraries in one place, and how long that takes. */
export interface ColdStartReads {
  readonly libraries: 'package' | 'file-system';
  /** MiB read from EFS by one cold start. */
  readonly mib: number;
  /** Seconds to read them at the rate one client reaches in each mode (the modes' `peakMibps`). */
  readonly loadSeconds: { readonly bursting: number; readonly provisioned: number; readonly elastic: number };
}

/** One throughput mode's figures. */
export interface ModePlan {
  readonly mode: ThroughputModeName;
  /**
   * The rate the mode sustains all day, in KiB/s: the bursting baseline, or the provisioned rate
   * (never below the bursting baseline). `null` for elastic, which has no daily budget.
   */
  readonly sustainedKibps: number | null;
  /** The rate a single load can reach, in MiB/s (bursting: while credits last; elastic: per client). */
  readonly peakMibps: number;
  /** What the sustained rate moves in a day, in KiB. `null` for elastic. */
  readonly dailyKib: number | null;
  /** The same in GiB (binary). `null` for elastic. */
  readonly dailyGib: number | null;
  /** Whole cold starts a day the mode sustains, rounded down. `null` for elastic: no limit (pay per GiB). */
  readonly coldStartsPerDay: number | null;
  /** Seconds one cold-start load takes at the peak rate. */
  readonly loadSecondsAtPeak: number;
  /** Seconds one cold-start load takes at the sustained rate (bursting with no credits left). `null` for elastic. */
  readonly loadSecondsSustained: number | null;
  /** Whether the mode sustains the requested cold starts a day; `null` when none was given. */
  readonly sustainsRequestedRate: boolean | null;
}

/** A day's budget at the post's rate, and how the post writes it. */
export interface PostArithmetic {
  /** The rate the post computes with, in KiB/s. */
  readonly kibps: number;
  readonly dailyKib: number;
  /** Binary GiB: what the day's budget really is. */
  readonly dailyGib: number;
  /** What the post's way (÷ 1,000 per unit step) writes for the same day. */
  readonly postWritesGib: number;
  /** Whole cold starts, rounded down. */
  readonly coldStartsPerDay: number;
}

export interface BurstingPlan extends ModePlan {
  readonly mode: 'bursting';
  /** Burst credits accrue at 50 KiB/s per GiB stored (the post's "baseline rate"), in KiB/s. */
  readonly creditAccrualKibps: number;
  /** Whether the 1 MiB/s floor lifts the sustained rate above the accrual rate (under 20 GiB stored). */
  readonly floorApplies: boolean;
  /** The post's arithmetic: the day at the credit-accrual rate, without the 1 MiB/s floor. */
  readonly postArithmetic: PostArithmetic;
}
export interface ProvisionedPlan extends ModePlan {
  readonly mode: 'provisioned';
  /** The provisioned throughput evaluated, in MiB/s. */
  readonly provisionedMibps: number;
  /** What the post's way (÷ 1,000 from MiB) writes for the day's budget. */
  readonly postWritesDailyGib: number;
}
export interface ElasticPlan extends ModePlan {
  readonly mode: 'elastic';
  /** GiB read a day by the requested cold starts: what elastic bills for them. `null` without a rate. */
  readonly meteredGibPerDay: number | null;
}

export interface Recommendation {
  readonly mode: ThroughputModeName;
  /** Set when `mode` is `provisioned`. */
  readonly provisionedMibps?: number;
  readonly reason: string;
}

export interface ThroughputPlan {
  readonly input: Required<Pick<ThroughputPlanInput, 'storedGib' | 'coldStartGib'>> & {
    readonly coldStartsPerDay: number | null;
  };
  readonly bursting: BurstingPlan;
  readonly provisioned: ProvisionedPlan;
  readonly elastic: ElasticPlan;
  /**
   * The smallest whole provisioned MiB/s that sustains the requested rate (1 at least); `null`
   * without a rate.
   */
  readonly requiredProvisionedMibps: number | null;
  readonly recommendation: Recommendation;
  /** Cold-start reads with the libraries in the package and on EFS; `null` without `coldStartParts`. */
  readonly coldStartReads: readonly ColdStartReads[] | null;
  /** Where the post's way of counting differs from this plan's, for these inputs. */
  readonly notes: readonly string[];
}

/**
 * Rate at which a bursting file system earns credits, in KiB/s: 50 KiB/s per GiB stored (the
 * post's "baseline rate").
 * @example creditAccrualKibps(10); // 500
 */
export function creditAccrualKibps(storedGib: number): number {
  return EFS_THROUGHPUT.baselineKibpsPerGib * storedGib;
}

/**
 * Bursting baseline in KiB/s, what a file system sustains with no credits left:
 * max(1 MiB/s, 50 KiB/s per GiB stored).
 * @example burstingBaselineKibps(10); // 1024 (the 1 MiB/s floor)
 * @example burstingBaselineKibps(100); // 5000
 */
export function burstingBaselineKibps(storedGib: number): number {
  return Math.max(EFS_THROUGHPUT.minimumBaselineKibps, creditAccrualKibps(storedGib));
}

/**
 * Bursting peak in MiB/s: 100 MiB/s, or 100 MiB/s per TiB above 1 TiB.
 * @example burstingPeakMibps(10); // 100
 */
export function burstingPeakMibps(storedGib: number): number {
  const tib = storedGib / GIB_PER_TIB;
  return tib <= 1 ? EFS_THROUGHPUT.burstMibps : EFS_THROUGHPUT.burstMibpsPerTib * tib;
}

/**
 * Plans the throughput of a file system for a cold-start workload, in all three modes.
 * @throws {RangeError} when a number is not finite and positive (provisioned: 1 MiB/s at least).
 * @example
 * const plan = planThroughput({ storedGib: 10, coldStartGib: 2, provisionedMibps: 10 });
 * plan.bursting.postArithmetic;      // { kibps: 500, dailyKib: 43_200_000, dailyGib: 41.2, postWritesGib: 43.2, coldStartsPerDay: 20 }
 * plan.bursting.sustainedKibps;      // 1024: the 1 MiB/s floor...
 * plan.bursting.coldStartsPerDay;    // 42: ...so EFS today sustains 42 such loads a day
 * plan.provisioned.dailyGib;         // 843.75 (the post writes 864 GiB)
 * plan.provisioned.coldStartsPerDay; // 421 (the post: "about 400")
 */
export function planThroughput(input: ThroughputPlanInput): ThroughputPlan {
  const { storedGib, coldStartGib } = input;
  const rate = input.coldStartsPerDay ?? null;
  requireNumber('storedGib', storedGib, 0, 'at least 0');
  requireNumber('coldStartGib', coldStartGib, Number.MIN_VALUE, 'above 0');
  if (rate !== null) requireNumber('coldStartsPerDay', rate, 0, 'at least 0');

  const coldStartKib = coldStartGib * KIB_PER_GIB;
  const requiredKibps = rate === null ? null : (rate * coldStartKib) / SECONDS_PER_DAY;
  const requiredProvisionedMibps =
    requiredKibps === null ? null : Math.max(EFS_THROUGHPUT.minimumProvisionedMibps, Math.ceil(requiredKibps / KIB_PER_MIB - EPSILON));
  const provisionedMibps = input.provisionedMibps ?? requiredProvisionedMibps ?? 10;
  requireNumber('provisionedMibps', provisionedMibps, EFS_THROUGHPUT.minimumProvisionedMibps, 'at least 1 (MiB/s)');

  const sustains = (kibps: number | null): boolean | null => {
    if (requiredKibps === null) return null;
    return kibps === null || kibps + EPSILON >= requiredKibps;
  };
  const daily = (kibps: number): { dailyKib: number; dailyGib: number; coldStartsPerDay: number } => {
    const dailyKib = kibps * SECONDS_PER_DAY;
    return {
      dailyKib,
      dailyGib: dailyKib / KIB_PER_GIB,
      coldStartsPerDay: Math.floor(dailyKib / coldStartKib + EPSILON),
    };
  };

  const baselineKibps = burstingBaselineKibps(storedGib);
  const accrualKibps = creditAccrualKibps(storedGib);
  const burstPeak = burstingPeakMibps(storedGib);
  const postDay = daily(accrualKibps);
  const bursting: BurstingPlan = {
    mode: 'bursting',
    creditAccrualKibps: accrualKibps,
    floorApplies: baselineKibps > accrualKibps,
    postArithmetic: { kibps: accrualKibps, ...postDay, postWritesGib: postDay.dailyKib / 1_000_000 },
    sustainedKibps: baselineKibps,
    peakMibps: burstPeak,
    ...daily(baselineKibps),
    loadSecondsAtPeak: coldStartKib / (burstPeak * KIB_PER_MIB),
    loadSecondsSustained: coldStartKib / baselineKibps,
    sustainsRequestedRate: sustains(baselineKibps),
  };

  // Provisioned never delivers less than the bursting baseline the stored data earns.
  const provisionedKibps = Math.max(provisionedMibps * KIB_PER_MIB, baselineKibps);
  const provisionedDay = daily(provisionedKibps);
  const provisioned: ProvisionedPlan = {
    mode: 'provisioned',
    provisionedMibps,
    postWritesDailyGib: provisionedDay.dailyKib / KIB_PER_MIB / 1_000,
    sustainedKibps: provisionedKibps,
    peakMibps: provisionedKibps / KIB_PER_MIB,
    ...provisionedDay,
    loadSecondsAtPeak: coldStartKib / provisionedKibps,
    loadSecondsSustained: coldStartKib / provisionedKibps,
    sustainsRequestedRate: sustains(provisionedKibps),
  };

  const elastic: ElasticPlan = {
    mode: 'elastic',
    sustainedKibps: null,
    peakMibps: EFS_THROUGHPUT.elasticPerClientMibps,
    dailyKib: null,
    dailyGib: null,
    coldStartsPerDay: null,
    loadSecondsAtPeak: coldStartKib / (EFS_THROUGHPUT.elasticPerClientMibps * KIB_PER_MIB),
    loadSecondsSustained: null,
    sustainsRequestedRate: sustains(null),
    meteredGibPerDay: rate === null ? null : rate * coldStartGib,
  };

  const plan = {
    input: { storedGib, coldStartGib, coldStartsPerDay: rate },
    bursting,
    provisioned,
    elastic,
    requiredProvisionedMibps,
  };
  const parts = input.coldStartParts ?? null;
  let coldStartReads: ColdStartReads[] | null = null;
  if (parts !== null) {
    requireNumber('coldStartParts.modelMib', parts.modelMib, 0, 'at least 0');
    requireNumber('coldStartParts.librariesMib', parts.librariesMib, 0, 'at least 0');
    const reads = (libraries: ColdStartReads['libraries'], mib: number): ColdStartReads => ({
      libraries,
      mib,
      loadSeconds: { bursting: mib / bursting.peakMibps, provisioned: mib / provisioned.peakMibps, elastic: mib / elastic.peakMibps },
    });
    coldStartReads = [reads('package', parts.modelMib), reads('file-system', parts.modelMib + parts.librariesMib)];
  }
  return { ...plan, recommendation: recommend(plan), coldStartReads, notes: postNotes(bursting, provisioned, coldStartGib) };
}

/**
 * Whether `throughput` sustains the plan's requested cold starts a day (`true` when none was given).
 * For provisioned mode, the plan's `provisioned` figures are recomputed for `throughput.mibps`.
 */
export function sustains(plan: ThroughputPlan, throughput: ThroughputMode): { ok: boolean; coldStartsPerDay: number | null } {
  if (throughput.mode === 'elastic') return { ok: true, coldStartsPerDay: null };
  const modePlan =
    throughput.mode === 'bursting' ? plan.bursting : planThroughput({ ...plan.input, provisionedMibps: throughput.mibps }).provisioned;
  return { ok: modePlan.sustainsRequestedRate !== false, coldStartsPerDay: modePlan.coldStartsPerDay };
}

function recommend(plan: Omit<ThroughputPlan, 'recommendation' | 'notes' | 'coldStartReads'>): Recommendation {
  const { bursting, elastic, requiredProvisionedMibps, input } = plan;
  if (input.coldStartsPerDay === null) {
    return {
      mode: 'elastic',
      reason:
        'no cold-start rate given: elastic needs no sizing and bills per GiB transferred; give --cold-starts-per-day to compare with bursting',
    };
  }
  const load = `${formatNumber(input.coldStartGib)} GiB`;
  if (bursting.sustainsRequestedRate === true) {
    return {
      mode: 'bursting',
      reason:
        `bursting sustains ${formatNumber(bursting.coldStartsPerDay ?? 0)} cold starts of ${load} a day at no throughput charge, ` +
        `at least the ${formatNumber(input.coldStartsPerDay)} requested; keep the BurstCreditBalance alarm`,
    };
  }
  return {
    mode: 'elastic',
    reason:
      `bursting sustains only ${formatNumber(bursting.coldStartsPerDay ?? 0)} cold starts of ${load} a day, fewer than the ` +
      `${formatNumber(input.coldStartsPerDay)} requested. Elastic serves them billed per GiB ` +
      `(${formatNumber(elastic.meteredGibPerDay ?? 0)} GiB read a day) and loads fastest; provisioned needs at least ` +
      `${formatNumber(requiredProvisionedMibps ?? 1)} MiB/s, billed around the clock: worth it only for a steady load`,
  };
}

// Where the post's way of counting differs from this plan's, with these inputs' numbers: it
// converts a day's KiB (bursting) or MiB (provisioned) to "GiB" by dividing by 1,000 per step, its
// worked example has no 1 MiB/s floor, and it rounds numbers of loads to round figures.
function postNotes(bursting: BurstingPlan, provisioned: ProvisionedPlan, coldStartGib: number): string[] {
  const post = bursting.postArithmetic;
  const load = `${formatNumber(coldStartGib)} GiB`;
  const notes = [
    `bursting, the post's arithmetic: ${formatNumber(post.kibps)} KiB/s (50 KiB/s per GiB) moves ${formatNumber(post.dailyKib)} KiB a day, ` +
      `which is ${formatNumber(post.dailyGib, 2)} GiB (the post's way, ÷ 1,000,000, writes ${formatNumber(post.postWritesGib, 2)} GiB): ` +
      `${formatNumber(post.coldStartsPerDay)} loads of ${load}.`,
  ];
  if (bursting.floorApplies) {
    notes.push(
      `bursting today: below 20.48 GiB stored EFS never throttles under 1 MiB/s (the post's July 2020 update; its worked ` +
        `example predates it), so the file system sustains ${formatNumber(bursting.sustainedKibps ?? 0)} KiB/s: ` +
        `${formatNumber(bursting.dailyKib ?? 0)} KiB (${formatNumber(bursting.dailyGib ?? 0, 2)} GiB) and ` +
        `${formatNumber(bursting.coldStartsPerDay ?? 0)} loads of ${load} a day; plans and warnings use this.`,
    );
  }
  notes.push(
    `provisioned: ${formatNumber((provisioned.dailyKib ?? 0) / KIB_PER_MIB)} MiB a day is ${formatNumber(provisioned.dailyGib ?? 0, 2)} GiB ` +
      `(the post's way, ÷ 1,000, writes ${formatNumber(provisioned.postWritesDailyGib, 2)} GiB): ` +
      `${formatNumber(provisioned.coldStartsPerDay ?? 0)} loads of ${load}.`,
    `loads are whole and rounded down; the post rounds its own counts to round figures ` +
      `("about 20" and "about 400" for 10 GiB stored, 2 GiB loads and 10 MiB/s, exactly 20 and 421).`,
  );
  return notes;
}

function requireNumber(name: string, value: number, min: number, rule: string): void {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`${name} must be a finite number ${rule}; got ${String(value)}`);
  }
}

/** `43200000` → `'43,200,000'`; `41.19873` → `'41.2'` with 1 digit. */
export function formatNumber(value: number, maximumFractionDigits = 2): string {
  return value.toLocaleString('en-US', { maximumFractionDigits });
}
