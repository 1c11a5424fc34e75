import { describe, expect, it } from 'vitest';
import { percentile, summarize } from './metrics.ts';
import type { RequestRecord } from './ports.ts';
import { estimateCost, prices } from './prices.ts';

const record = (over: Partial<RequestRecord>): RequestRecord => ({
  time: '2026-11-22T10:00:00.000Z', projectId: 'web', deploymentId: 'd1', requestId: 'r', method: 'GET', path: '/',
  origin: 'function', status: 200, durationMs: 10, coldStart: false, bytesOut: 1000, ...over,
});

describe('request metrics', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBe(0);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });

  it('counts function requests per deployment and route; static files only in usage', () => {
    const rs = [
      record({ durationMs: 10, coldStart: true }),
      record({ durationMs: 30, status: 500 }),
      record({ path: '/api', durationMs: 20, status: 404 }),
      record({ path: '/_next/static/a.js', origin: 'asset', durationMs: 1, bytesOut: 5000 }),
    ];
    const m = summarize('d1', rs, { memoryMb: 2048, storageBytes: 42 });
    expect(m).toMatchObject({ deploymentId: 'd1', requests: 3, status4xx: 1, status5xx: 1, p50Ms: 20, p99Ms: 30, coldStarts: 1 });
    expect(m.routes).toEqual([
      { route: '/', requests: 2, status4xx: 0, status5xx: 1, p50Ms: 10, p95Ms: 30, p99Ms: 30, coldStarts: 1 },
      { route: '/api', requests: 1, status4xx: 1, status5xx: 0, p50Ms: 20, p95Ms: 20, p99Ms: 20, coldStarts: 0 },
    ]);
    expect(m.usage).toEqual({ invocations: 3, gbSeconds: 0.12, bytesOut: 8000, cdnRequests: 4, assetRequests: 1, storageBytes: 42 });
  });

  it('prices usage with the one table', () => {
    const usage = { invocations: 1e6, gbSeconds: 1000, bytesOut: 1024 ** 3, cdnRequests: 1e4, assetRequests: 1e3, storageBytes: 1024 ** 3 };
    const month = 30 * 24 * 3600 * 1000;
    const c = estimateCost(usage, month);
    expect(c.lambdaRequests).toBeCloseTo(prices.lambda.perMillionRequests);
    expect(c.lambdaDuration).toBeCloseTo(1000 * prices.lambda.perGbSecond);
    expect(c.dataOut).toBeCloseTo(prices.cloudFront.perGbOut);
    expect(c.cdnRequests).toBeCloseTo(prices.cloudFront.perTenThousandHttpsRequests);
    expect(c.storage).toBeCloseTo(prices.s3.perGbMonth);
    expect(c.assetGets).toBeCloseTo(prices.s3.perThousandGets);
    expect(c.total).toBeCloseTo(c.lambdaRequests + c.lambdaDuration + c.dataOut + c.cdnRequests + c.storage + c.assetGets);
    expect(estimateCost(usage, month / 30).storage).toBeCloseTo(prices.s3.perGbMonth / 30);
  });
});
