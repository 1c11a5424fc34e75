import { EventType, streams } from '../../events/index.ts';
import type { EventMetadata, EmitContext } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { defineHandler, execute, load, type IdempotencyOptions } from '../shell/index.ts';
import { domainDecider, type DomainCommand, type DomainState } from './decider.ts';
import { CertificateRefusedError, type CertificateAuthority, type RoutingRecord } from './ports.ts';

export interface DomainsServiceDeps {
  store: EventStore;
  ca: CertificateAuthority;
  routingRecord: RoutingRecord;
  ids: () => string;
  now: () => string;
  idempotency?: IdempotencyOptions;
}

const decider = domainDecider;
const actor = { kind: 'service', id: 'domains' } as const;

/**
 * The domains service: requests a certificate for every added domain, publishes the DNS records
 * to create, records the certificate once issued and the domain as active, and releases the
 * certificate of a removed domain. Each handler folds the domain's stream first, so duplicate
 * and late deliveries decide nothing.
 *
 * @example
 * const domains = domainsService({ store, ca: localCertificateAuthority({ dir }), routingRecord, ids, now });
 * bus subscribers: domains.onDomainAdded, domains.onValidationPending, domains.onDomainRemoved
 */
export const domainsService = (deps: DomainsServiceDeps) => {
  const idem = deps.idempotency ? { idempotency: deps.idempotency } : {};
  const ctx = (cause: EventMetadata): EmitContext => ({ ids: deps.ids, now: deps.now, cause, actor });
  const fold = async (host: string): Promise<DomainState> => load(deps.store, streams.domain(host), decider);
  const run = (host: string, cmd: DomainCommand, cause: EventMetadata) => execute(deps.store, streams.domain(host), decider, () => cmd, ctx(cause));
  const refused = (e: unknown, certificateId?: string): DomainCommand | undefined =>
    e instanceof CertificateRefusedError ? { type: 'Fail', reason: e.reason, detail: e.message, retryable: e.reason !== 'caa-forbids-issuer', ...(certificateId ? { certificateId } : {}) } : undefined;

  const onDomainAdded = defineHandler({
    name: 'DomainsOnDomainAdded',
    accepts: [EventType.DomainAdded],
    ...idem,
    handle: async (e, { logger }) => {
      const { host } = e.data;
      // 1. only a domain still waiting for its certificate
      const s = await fold(host);
      if (s.status !== 'added' || s.certificateId) return logger.info('nothing to request', { status: s.status });
      // 2. request it, then record the records to create
      let cert;
      try {
        cert = await deps.ca.request({ host, idempotencyToken: e.id });
      } catch (err) {
        const fail = refused(err);
        if (!fail) throw err;
        return void (await run(host, fail, e.metadata));
      }
      const records = [...cert.validationRecords, deps.routingRecord({ projectId: s.projectId!, host, alias: s.alias! })];
      await run(host, { type: 'Request', certificateId: cert.certificateId, provider: deps.ca.provider, records, ...(cert.expiresAt ? { expiresAt: cert.expiresAt } : {}) }, e.metadata);
    },
  });

  // ACM validates minutes to hours after the records appear (it waits up to 72 hours). On AWS,
  // `pendingIsRetried` (infra/aws/runtime) makes the bus's retries the re-check, which stop at the
  // subscription's maximum event age (an hour). TODO(the acm adapter exists, so now): a scheduled
  // reconcile that re-checks pending domains.
  const onValidationPending = defineHandler({
    name: 'DomainsOnValidationPending',
    accepts: [EventType.DomainValidationPending],
    ...idem,
    handle: async (e) => {
      const { host, certificateId } = e.data;
      const s = await fold(host);
      if (s.status !== 'pending' || s.certificateId !== certificateId) return;
      const status = await deps.ca.status(certificateId);
      if (status.status === 'pending') return;
      await run(host, status.status === 'issued'
        ? { type: 'Issue', certificateId, issuer: status.issuer, notBefore: status.notBefore, notAfter: status.notAfter }
        : { type: 'Fail', certificateId, reason: status.reason, detail: status.detail, retryable: status.reason !== 'caa-forbids-issuer' }, e.metadata);
    },
  });

  const onDomainRemoved = defineHandler({
    name: 'DomainsOnDomainRemoved',
    accepts: [EventType.DomainRemoved],
    ...idem,
    handle: async (e) => {
      // The certificate of the adding this removal ended: the last one requested before it.
      const history = await deps.store.readStream(streams.domain(e.data.host));
      const at = history.findIndex((x) => x.metadata.eventId === e.id);
      const requested = history.slice(0, at < 0 ? 0 : at).reverse().find((x) => x.type === EventType.CertificateRequested);
      if (requested) await deps.ca.release((requested.data as { certificateId: string }).certificateId);
    },
  });

  return { onDomainAdded, onValidationPending, onDomainRemoved };
};

export type DomainsService = ReturnType<typeof domainsService>;
