import type { Usage } from './ports.ts';

/**
 * AWS's published on-demand prices for what a shiplog site uses, in US dollars, in one table.
 * Region: US East (N. Virginia) for Lambda and S3; CloudFront's "United States, Mexico and
 * Canada" and "Europe" rates (the same for these items). Free tiers are left out: an estimate
 * per site cannot know what the rest of the account uses. Taken from the public pricing pages
 * below, as they read on 2026-12-03; update the table and that date together.
 *
 * - Lambda (x86, first 6 billion GB-s a month; requests): https://aws.amazon.com/lambda/pricing/
 * - CloudFront (data transfer out, first 10 TB; HTTPS requests): https://aws.amazon.com/cloudfront/pricing/
 * - S3 Standard (storage, first 50 TB; GET requests): https://aws.amazon.com/s3/pricing/
 *
 * @example
 * prices.lambda.perGbSecond; // 0.0000166667
 */
export const prices = {
  asOf: '2026-12-03',
  region: 'us-east-1',
  lambda: { perMillionRequests: 0.2, perGbSecond: 0.0000166667 },
  cloudFront: { perGbOut: 0.085, perTenThousandHttpsRequests: 0.01 },
  s3: { perGbMonth: 0.023, perThousandGets: 0.0004 },
} as const;

/**
 * A cost estimate, per line item and in total, in US dollars.
 *
 * @example
 * { lambdaRequests: 0.00002, lambdaDuration: 0.00007, dataOut: 0.0001, cdnRequests: 0.00001, storage: 0.00000, assetGets: 0, total: 0.0002 }
 */
export interface CostEstimate {
  lambdaRequests: number;
  lambdaDuration: number;
  dataOut: number;
  cdnRequests: number;
  storage: number;
  assetGets: number;
  total: number;
}

const GB = 1024 ** 3;
const monthMs = 30 * 24 * 3600 * 1000;

/**
 * What `usage` over `periodMs` costs at {@link prices}: storage is prorated to the period (a
 * month is 30 days), everything else is billed as used.
 *
 * @example
 * estimateCost(usage, 24 * 3600 * 1000).total;
 */
export const estimateCost = (usage: Usage, periodMs: number): CostEstimate => {
  const items = {
    lambdaRequests: (usage.invocations / 1e6) * prices.lambda.perMillionRequests,
    lambdaDuration: usage.gbSeconds * prices.lambda.perGbSecond,
    dataOut: (usage.bytesOut / GB) * prices.cloudFront.perGbOut,
    cdnRequests: (usage.cdnRequests / 1e4) * prices.cloudFront.perTenThousandHttpsRequests,
    storage: (usage.storageBytes / GB) * prices.s3.perGbMonth * (periodMs / monthMs),
    assetGets: (usage.assetRequests / 1e3) * prices.s3.perThousandGets,
  };
  return { ...items, total: Object.values(items).reduce((a, b) => a + b, 0) };
};
