import { describe, expect, it } from 'vitest';

import { escapeWorkflowData, failureLines, formatReport, type SmokeReport, type StepResult } from '../../src/index.js';

const passed = (id: string, title: string, status: number, ms: number, note?: string): StepResult => ({
  id,
  title,
  method: 'GET',
  path: '/message-wall/smoke-1',
  outcome: 'passed',
  expected: `${status} "No message yet."`,
  attempts: [{ status, durationMs: ms }],
  ...(note === undefined ? {} : { note }),
});

const failedStep: StepResult = {
  id: 'classify',
  title: 'POST an image (a|b.jpg): its class',
  method: 'POST',
  path: '/ml-inference',
  outcome: 'failed',
  expected: '200 JSON with bird_class a label and model {name, version}',
  attempts: [
    { status: 503, durationMs: 30_012.4 },
    { status: null, durationMs: 35_000 },
  ],
  actual: 'no answer within 35000 ms',
  note: 'no answer',
};

const report: SmokeReport = {
  baseUrl: 'https://api.example.com',
  wallId: 'smoke-1',
  steps: [passed('get-empty', 'GET a new wall: empty', 200, 12.4), failedStep],
  passed: false,
  durationMs: 65_100,
};

describe('formatReport', () => {
  it('prints an aligned text table, then each failure with what was expected and answered', () => {
    expect(formatReport(report, 'text')).toBe(
      [
        'Smoke test of https://api.example.com (wall smoke-1): FAILED, 1 of 2 steps failed, 65.10 s',
        '',
        '#  step                                request                    result  status      time              detail',
        '1  GET a new wall: empty               GET /message-wall/smoke-1  passed  200         12 ms',
        '2  POST an image (a|b.jpg): its class  POST /ml-inference         FAILED  503 → none  30012 + 35000 ms  no answer; retried 1× after 503',
        '',
        'FAILED: POST an image (a|b.jpg): its class (POST /ml-inference)',
        '  expected: 200 JSON with bird_class a label and model {name, version}',
        '  answered: no answer within 35000 ms',
        '  problem:  no answer',
        '',
      ].join('\n'),
    );
  });

  it('prints Markdown whose cells cannot break the table or inject HTML', () => {
    const hostile: SmokeReport = {
      ...report,
      steps: [
        { ...failedStep, attempts: [{ status: 500, durationMs: 3 }], actual: '500 "<script>|```"', note: 'status 500, not 200 | <b>' },
      ],
    };
    const out = formatReport(hostile, 'markdown');
    expect(out.split('\n').slice(0, 6)).toEqual([
      '### Smoke test: FAILED ❌',
      '',
      '<code>https://api.example.com</code>, wall <code>smoke-1</code>: 1 of 1 steps failed, 65.10 s',
      '',
      '| # | step | request | result | status | time | detail |',
      '| ---: | --- | --- | --- | --- | ---: | --- |',
    ]);
    expect(out).toContain(
      '| 1 | POST an image (a&#124;b.jpg): its class | <code>POST /ml-inference</code> | **FAILED** | 500 | 3 ms | status 500, not 200 &#124; &lt;b&gt; |',
    );
    // The answer goes into a fenced block longer than any backtick run inside it.
    expect(out).toContain(
      '````text\nexpected: 200 JSON with bird_class a label and model {name, version}\nanswered: 500 "<script>|```"\n````',
    );
  });

  it('names each failed step on one line for stderr', () => {
    expect(failureLines(report)).toEqual([
      'smoke: step 2 "POST an image (a|b.jpg): its class" failed (POST /ml-inference): no answer. Expected: 200 JSON with bird_class a label and model {name, version}. The API answered: no answer within 35000 ms',
    ]);
  });
});

describe('escapeWorkflowData', () => {
  it('escapes what would end or forge a GitHub workflow command', () => {
    expect(escapeWorkflowData('100% down\r\n::error::forged')).toBe('100%25 down%0D%0A::error::forged');
  });
});
