// The report as people read it: a plain-text table for a terminal, or Markdown for a GitHub job
// summary ($GITHUB_STEP_SUMMARY). Both end with every failure spelled out: the step, what the
// contract expects, and what the API answered.
import type { SmokeReport, StepResult } from './session.js';

/** Output formats of {@link formatReport}. */
export type ReportFormat = 'text' | 'markdown';

/** The report as a table followed by the failures, in `format`. */
export function formatReport(report: SmokeReport, format: ReportFormat): string {
  return format === 'markdown' ? markdown(report) : text(report);
}

/** One line per failed step, for stderr: the step, what is wrong, what the contract expects and what the API answered. */
export function failureLines(report: SmokeReport): string[] {
  return report.steps.flatMap((step, index) =>
    step.outcome === 'failed'
      ? [
          `smoke: step ${index + 1} "${step.title}" failed (${step.method} ${step.path}): ${step.note ?? '?'}. Expected: ${step.expected}. The API answered: ${step.actual ?? '?'}`,
        ]
      : [],
  );
}

function verdict(report: SmokeReport): string {
  const counted = report.steps.filter((step) => step.outcome !== 'skipped').length;
  const failed = report.steps.filter((step) => step.outcome === 'failed').length;
  const skipped = report.steps.length - counted;
  const parts = [report.passed ? `${counted} steps passed` : `${failed} of ${counted} steps failed`];
  if (skipped > 0) parts.push(`${skipped} skipped`);
  parts.push(seconds(report.durationMs));
  return parts.join(', ');
}

function statusCell(step: StepResult): string {
  if (step.attempts.length === 0) return '-';
  return step.attempts.map((attempt) => (attempt.status === null ? 'none' : String(attempt.status))).join(' → ');
}

function timeCell(step: StepResult): string {
  if (step.attempts.length === 0) return '-';
  return `${step.attempts.map((attempt) => Math.round(attempt.durationMs)).join(' + ')} ms`;
}

function detailCell(step: StepResult): string {
  const retried =
    step.attempts.length > 1
      ? `retried ${step.attempts.length - 1}× after ${step.attempts
          .slice(0, -1)
          .map((attempt) => attempt.status ?? 'no answer')
          .join(', ')}`
      : '';
  return [step.note ?? '', retried].filter((part) => part !== '').join('; ');
}

function text(report: SmokeReport): string {
  const header = ['#', 'step', 'request', 'result', 'status', 'time', 'detail'];
  const rows = report.steps.map((step, index) => [
    String(index + 1),
    step.title,
    `${step.method} ${step.path}`,
    step.outcome === 'failed' ? 'FAILED' : step.outcome,
    statusCell(step),
    timeCell(step),
    detailCell(step),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [
    `Smoke test of ${report.baseUrl} (wall ${report.wallId}): ${report.passed ? 'PASSED' : 'FAILED'}, ${verdict(report)}`,
    '',
    line(header),
    ...rows.map(line),
  ];
  for (const step of report.steps.filter((candidate) => candidate.outcome === 'failed')) {
    out.push(
      '',
      `FAILED: ${step.title} (${step.method} ${step.path})`,
      `  expected: ${step.expected}`,
      `  answered: ${step.actual ?? '?'}`,
      `  problem:  ${step.note ?? '?'}`,
    );
  }
  if (report.cleanup !== undefined) out.push('', `Cleanup: ${report.cleanup}`);
  return `${out.join('\n')}\n`;
}

/** Escapes text for a Markdown table cell (inline HTML is allowed in GitHub's Markdown). */
function cell(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;').replace(/\r?\n/g, ' ');
}

function fence(content: string): string {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((match) => match[0].length));
  const marker = '`'.repeat(longest + 1);
  return `${marker}text\n${content}\n${marker}`;
}

function markdown(report: SmokeReport): string {
  const out = [
    `### Smoke test: ${report.passed ? 'passed ✅' : 'FAILED ❌'}`,
    '',
    `<code>${cell(report.baseUrl)}</code>, wall <code>${cell(report.wallId)}</code>: ${verdict(report)}`,
    '',
    '| # | step | request | result | status | time | detail |',
    '| ---: | --- | --- | --- | --- | ---: | --- |',
    ...report.steps.map(
      (step, index) =>
        `| ${index + 1} | ${cell(step.title)} | <code>${cell(`${step.method} ${step.path}`)}</code> | ${
          step.outcome === 'passed' ? 'passed' : step.outcome === 'failed' ? '**FAILED**' : 'skipped'
        } | ${cell(statusCell(step))} | ${cell(timeCell(step))} | ${cell(detailCell(step))} |`,
    ),
  ];
  for (const step of report.steps.filter((candidate) => candidate.outcome === 'failed')) {
    out.push('', `**FAILED: ${cell(step.title)}** (<code>${cell(`${step.method} ${step.path}`)}</code>): ${cell(step.note ?? '')}`, '');
    out.push(fence(`expected: ${step.expected}\nanswered: ${step.actual ?? '?'}`));
  }
  if (report.cleanup !== undefined) out.push('', `Cleanup: ${cell(report.cleanup)}`);
  return `${out.join('\n')}\n`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
