import type { Context } from 'aws-lambda';
import { awsDomains } from '../../infra/aws/runtime/deps.ts';

/**
 * `DomainsOnDomainAdded` (topology): requests an ACM certificate and publishes the DNS records.
 *
 * @example
 * // infra/topology.ts: subscribe('DomainsOnDomainAdded', 'services/domains/lambda.onDomainAdded', …)
 */
export const onDomainAdded = (event: unknown, context?: Context): Promise<void> =>
  awsDomains().domains.onDomainAdded(event, context);

/**
 * `DomainsOnValidationPending` (topology): records the certificate once ACM issued it, or the
 * failure. A certificate still pending throws a retryable error, so the bus delivers it again.
 *
 * @example
 * // infra/topology.ts: subscribe('DomainsOnValidationPending', 'services/domains/lambda.onValidationPending', …)
 */
export const onValidationPending = (event: unknown, context?: Context): Promise<void> =>
  awsDomains().domains.onValidationPending(event, context);

/**
 * `DomainsOnDomainRemoved` (topology): deletes the removed domain's certificate.
 *
 * @example
 * // infra/topology.ts: subscribe('DomainsOnDomainRemoved', 'services/domains/lambda.onDomainRemoved', …)
 */
export const onDomainRemoved = (event: unknown, context?: Context): Promise<void> =>
  awsDomains().domains.onDomainRemoved(event, context);
