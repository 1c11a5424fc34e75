import type { Context } from 'aws-lambda';
import { awsDomains } from '../runtime/root.ts';

/**
 * `DomainsOnDomainAdded` (topology): requests an ACM certificate and publishes the DNS records.
 *
 * @example
 * // infra/topology.ts: subscribe('DomainsOnDomainAdded', 'infra/aws/functions/domains.onDomainAdded', …)
 */
export const onDomainAdded = (event: unknown, context?: Context): Promise<void> =>
  awsDomains().domains.onDomainAdded(event, context);

/**
 * `DomainsOnValidationPending` (topology): records the certificate once ACM issued it, or the
 * failure. A certificate still pending throws a retryable error, so the bus delivers it again.
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
