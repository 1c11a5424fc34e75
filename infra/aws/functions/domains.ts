import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { DomainsReconciled } from '../../../services/domains/index.ts';
import { awsDomains } from '../runtime/root.ts';

const logger = new Logger({ serviceName: 'domains' });

/**
 * `DomainsOnDomainAdded` (topology): requests an ACM certificate and publishes the DNS records.
 *
 * @example
 * // infra/topology.ts: subscribe('DomainsOnDomainAdded', 'infra/aws/functions/domains.onDomainAdded', …)
 */
export const onDomainAdded = (event: unknown, context?: Context): Promise<void> =>
  awsDomains().domains.onDomainAdded(event, context);

/**
 * `DomainsOnValidationPending` (topology): looks at the certificate once and records it if ACM
 * issued it (the domain becomes active) or failed it. A certificate still pending is left to
 * {@link reconcile}: DNS validation outlasts the bus's retries.
 *
 * @example
 * // infra/topology.ts: subscribe('DomainsOnValidationPending', 'infra/aws/functions/domains.onValidationPending', …)
 */
export const onValidationPending = (event: unknown, context?: Context): Promise<void> =>
  awsDomains().domains.onValidationPending(event, context);

/**
 * `DomainsOnDomainRemoved` (topology): deletes the removed domain's certificate.
 *
 * @example
 * // infra/topology.ts: subscribe('DomainsOnDomainRemoved', 'infra/aws/functions/domains.onDomainRemoved', …)
 */
export const onDomainRemoved = (event: unknown, context?: Context): Promise<void> =>
  awsDomains().domains.onDomainRemoved(event, context);

/**
 * The scheduled reconcile of custom domains (`DomainsReconcile`, aws-rules.ts): every domain
 * whose certificate waits for DNS validation is checked once, and becomes active, failed, or
 * failed as `validation-timed-out` once ACM's 72-hour window has passed. Throws (retryable)
 * only when ACM or the store could not answer for some of them.
 *
 * @example
 * // rule: schedule 'rate(1 minute)' → infra/aws/functions/domains.reconcile
 */
export const reconcile = async (): Promise<DomainsReconciled> => {
  const result = await awsDomains().domains.reconcile();
  if (result.active.length > 0 || result.failed.length > 0) logger.info('reconciled pending domains', { ...result });
  return result;
};
