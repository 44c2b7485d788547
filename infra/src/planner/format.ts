import { formatNumber, type ModePlan, type ThroughputPlan } from './throughput.js';

/**
 * Renders a plan as the table `plan-throughput` prints.
 * @example
 * console.log(formatPlan(planThroughput({ storedGib: 10, coldStartGib: 2 })));
 */
export function formatPlan(plan: ThroughputPlan): string {
  const { input } = plan;
  const requested = input.coldStartsPerDay === null ? 'no rate requested' : `${formatNumber(input.coldStartsPerDay)} requested a day`;
  const rows: string[][] = [
    ['mode', 'sustained', 'peak', 'moved a day', 'cold starts a day', 'one load: peak / sustained', 'enough?'],
    row(
      plan.bursting,
      `${formatNumber(plan.bursting.sustainedKibps ?? 0)} KiB/s`,
      `${formatNumber(plan.bursting.dailyKib ?? 0)} KiB (${formatNumber(plan.bursting.dailyGib ?? 0)} GiB)`,
    ),
    postRow(plan),
    row(
      plan.provisioned,
      `${formatNumber((plan.provisioned.sustainedKibps ?? 0) / 1024)} MiB/s`,
      `${formatNumber((plan.provisioned.dailyKib ?? 0) / 1024)} MiB (${formatNumber(plan.provisioned.dailyGib ?? 0)} GiB)`,
    ),
    row(
      plan.elastic,
      'pay per GiB',
      plan.elastic.meteredGibPerDay === null ? 'no daily budget' : `no budget; ${formatNumber(plan.elastic.meteredGibPerDay)} GiB billed`,
    ),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((cells) => (cells[column] ?? '').length))) ?? [];
  const table = rows.map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const { recommendation } = plan;
  const recommended =
    recommendation.mode === 'provisioned' && recommendation.provisionedMibps !== undefined
      ? `provisioned ${formatNumber(recommendation.provisionedMibps)} MiB/s`
      : recommendation.mode;
  return [
    `EFS throughput for ${formatNumber(input.storedGib)} GiB stored, ${formatNumber(input.coldStartGib)} GiB read per cold start (${requested})`,
    '',
    ...table,
    '',
    `Recommendation: ${recommended}: ${recommendation.reason}.`,
    '',
    ...readsSection(plan),
    'Notes:',
    ...plan.notes.map((note) => `  - ${note}`),
    `  - bursting peaks while credits last (a new file system starts with 2.1 TiB); provisioned is evaluated at ${formatNumber(plan.provisioned.provisionedMibps)} MiB/s.`,
  ].join('\n');
}

// One cold start's reads with the native libraries in the deployment package or on EFS.
function readsSection(plan: ThroughputPlan): string[] {
  if (plan.coldStartReads === null) return [];
  const rows = [
    ['native libraries', 'read from EFS', 'bursting (peak)', 'provisioned', 'elastic (per client)'],
    ...plan.coldStartReads.map((reads) => [
      reads.libraries === 'package' ? 'in the package' : 'on EFS (NODE_MODULES_DIR)',
      `${formatNumber(reads.mib, 1)} MiB`,
      formatSeconds(reads.loadSeconds.bursting),
      formatSeconds(reads.loadSeconds.provisioned),
      formatSeconds(reads.loadSeconds.elastic),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((cells) => (cells[column] ?? '').length))) ?? [];
  return [
    `One cold start's reads from EFS, and the time to read them at one client's rate (bursting ${formatNumber(plan.bursting.peakMibps)} MiB/s, ` +
      `provisioned ${formatNumber(plan.provisioned.peakMibps)} MiB/s, elastic ${formatNumber(plan.elastic.peakMibps)} MiB/s):`,
    '',
    ...rows.map((cells) =>
      cells
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    ),
    '',
  ];
}

// Durations under two minutes in milliseconds or seconds: a cold start's reads are short on a fast mode.
function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${formatNumber(seconds * 1000, 0)} ms` : formatDuration(seconds);
}

// The post's worked example: the credit-accrual rate, without today's 1 MiB/s floor.
function postRow(plan: ThroughputPlan): string[] {
  const post = plan.bursting.postArithmetic;
  const enough = plan.input.coldStartsPerDay === null ? '-' : post.coldStartsPerDay >= plan.input.coldStartsPerDay ? 'yes' : 'NO';
  return [
    "  (the post's arithmetic)",
    `${formatNumber(post.kibps)} KiB/s`,
    '',
    `${formatNumber(post.dailyKib)} KiB (${formatNumber(post.dailyGib)} GiB)`,
    formatNumber(post.coldStartsPerDay),
    formatDuration((plan.input.coldStartGib * 1024 * 1024) / post.kibps),
    enough,
  ];
}

function row(plan: ModePlan, sustained: string, daily: string): string[] {
  const enough = plan.sustainsRequestedRate === null ? '-' : plan.sustainsRequestedRate ? 'yes' : 'NO';
  const load =
    plan.loadSecondsSustained === null || plan.loadSecondsSustained === plan.loadSecondsAtPeak
      ? formatDuration(plan.loadSecondsAtPeak)
      : `${formatDuration(plan.loadSecondsAtPeak)} / ${formatDuration(plan.loadSecondsSustained)}`;
  return [
    plan.mode,
    sustained,
    `${formatNumber(plan.peakMibps)} MiB/s`,
    daily,
    plan.coldStartsPerDay === null ? 'no limit' : formatNumber(plan.coldStartsPerDay),
    load,
    enough,
  ];
}

/** `20.48` → `'20.5 s'`, `4194.3` → `'69.9 min'`, `90000` → `'25 h'`. */
export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${formatNumber(seconds, 1)} s`;
  if (seconds < 7200) return `${formatNumber(seconds / 60, 1)} min`;
  return `${formatNumber(seconds / 3600, 1)} h`;
}
