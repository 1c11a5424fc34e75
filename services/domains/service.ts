import { EventType, streams } from '../../events/index.ts';
import type { DnsRecord, EmitContext } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { defineHandler, execute, fold, load, type IdempotencyOptions } from '../shell/index.ts';
import { domainDecider, type DomainCommand, type DomainState } from './decider.ts';
import { CertificateRefusedError, type CertificateAuthority, type DnsZones, type DomainEdge, type PendingDomains, type RoutingRecord } from './ports.ts';

export interface DomainsServiceDeps {
  store: EventStore;
  ca: CertificateAuthority;
  routingRecord: RoutingRecord;
  /** Where an issued domain is attached before it is recorded active (AWS); none locally. */
  edge?: DomainEdge;
  /** The account's DNS zones (Route 53): records whose names they hold are created there. */
  dns?: DnsZones;
  ids: () => string;
  now: () => string;
  idempotency?: IdempotencyOptions;
  /** Where `reconcile` finds the pending domains; only the runtimes that reconcile need it. */
  pendingDomains?: PendingDomains;
  /** How many domains `reconcile` checks at once; 4 by default. */
  reconcileConcurrency?: number;
}

/**
 * What one reconcile did: how many pending domains it looked at, and which became active or failed.
 *
 * @example
 * const r: DomainsReconciled = { checked: 3, active: ['www.example.com'], failed: [] };
 */
export interface DomainsReconciled {
  checked: number;
  active: string[];
  failed: string[];
}

/**
 * A reconcile that could not check some domains (ACM throttled or down): every other domain was
 * checked. Retryable; the next scheduled run checks them again anyway.
 *
 * @example
 * catch (e) { if (e instanceof DomainsReconcileError) e.failures; } // [{ host, error }]
 */
export class DomainsReconcileError extends Error {
  override readonly name = 'DomainsReconcileError';
  readonly retryable = true;
  constructor(readonly failures: { host: string; error: string }[], readonly result: DomainsReconciled) {
    super(`could not check ${failures.length} pending domain(s): ${failures.map((f) => `${f.host}: ${f.error}`).join('; ')}`.slice(0, 2000));
  }
}

type Cause = EmitContext['cause'];

const decider = domainDecider;
const actor = { kind: 'service', id: 'domains' } as const;

/**
 * The domains service: requests a certificate for every added domain, publishes the DNS records
 * to create, records the certificate once issued and the domain as active, and releases the
 * certificate of a removed domain. Each handler folds the domain's stream first, so duplicate
 * and late deliveries decide nothing. DNS validation takes minutes to hours (ACM waits 72 hours),
 * far longer than the bus retries a delivery: `onValidationPending` looks once, and `reconcile`,
 * run on a schedule, looks again at every pending domain until it is issued, failed or past its
 * validation window. Nothing here throws to be asked again later.
 *
 * @example
 * const domains = domainsService({ store, ca: localCertificateAuthority({ dir }), routingRecord, ids, now });
 * bus subscribers: domains.onDomainAdded, domains.onValidationPending, domains.onDomainRemoved
 * every minute: await domains.reconcile();
 */
export const domainsService = (deps: DomainsServiceDeps) => {
  const idem = deps.idempotency ? { idempotency: deps.idempotency } : {};
  const ctx = (cause: Cause): EmitContext => ({ ids: deps.ids, now: deps.now, cause, actor });
  const stateOf = async (host: string): Promise<DomainState> => load(deps.store, streams.domain(host), decider);
  const run = (host: string, cmd: DomainCommand, cause: Cause) => execute(deps.store, streams.domain(host), decider, () => cmd, ctx(cause));
  const refused = (e: unknown, certificateId?: string): DomainCommand | undefined =>
    e instanceof CertificateRefusedError ? { type: 'Fail', reason: e.reason, detail: e.message, retryable: e.reason !== 'caa-forbids-issuer', ...(certificateId ? { certificateId } : {}) } : undefined;

  const onDomainAdded = defineHandler({
    name: 'DomainsOnDomainAdded',
    accepts: [EventType.DomainAdded],
    ...idem,
    handle: async (e, { logger }) => {
      const { host } = e.data;
      // 1. only a domain still waiting for its certificate
      const s = await stateOf(host);
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
      const wanted = [...cert.validationRecords, deps.routingRecord({ projectId: s.projectId!, host, alias: s.alias! })];
      // Created in the account's zone where it holds the name (recorded with `zone`), else shown to the user.
      const records = deps.dns ? await deps.dns.apply(wanted) : wanted;
      await run(host, { type: 'Request', certificateId: cert.certificateId, provider: deps.ca.provider, records, ...(cert.expiresAt ? { expiresAt: cert.expiresAt } : {}) }, e.metadata);
    },
  });

  // One look at a domain's pending certificate. The cause of what it decides is the domain's
  // DomainValidationPending, whoever looks (the subscription or the reconcile).
  const check = async (host: string, certificateId?: string): Promise<'active' | 'failed' | 'pending' | 'not-pending'> => {
    const history = await deps.store.readStream(streams.domain(host));
    const s = fold(decider, history);
    if (s.status !== 'pending' || !s.certificateId || (certificateId && s.certificateId !== certificateId)) return 'not-pending';
    const status = await deps.ca.status(s.certificateId);
    if (status.status === 'issued' && deps.edge) {
      await deps.edge.attach({ host, projectId: s.projectId!, alias: s.alias!, certificateId: s.certificateId, ...(s.redirectTo ? { redirectTo: s.redirectTo } : {}) });
    }
    const pending = history.findLast((e) => e.type === EventType.DomainValidationPending);
    const { appended } = await run(host, { type: 'Check', certificateId: s.certificateId, status, now: deps.now() }, pending?.metadata ?? null);
    if (appended.length === 0) return 'pending';
    return appended.some((e) => e.type === EventType.DomainActive) ? 'active' : 'failed';
  };

  const onValidationPending = defineHandler({
    name: 'DomainsOnValidationPending',
    accepts: [EventType.DomainValidationPending],
    ...idem,
    handle: async (e, { logger }) => {
      const outcome = await check(e.data.host, e.data.certificateId);
      // Still pending is the usual answer on ACM: the scheduled reconcile looks again.
      if (outcome === 'pending') logger.info('certificate pending validation; the reconcile checks it again');
    },
  });

  /**
   * Looks once at every pending domain (`pendingDomains`), a few at a time. A domain whose check
   * fails (ACM throttled) does not stop the others; the failures are thrown together at the end.
   */
  const reconcile = async (): Promise<DomainsReconciled> => {
    if (!deps.pendingDomains) throw new Error('domainsService: reconcile needs pendingDomains');
    const hosts = [...new Set(await deps.pendingDomains())];
    const result: DomainsReconciled = { checked: 0, active: [], failed: [] };
    const failures: { host: string; error: string }[] = [];
    const width = Math.max(1, deps.reconcileConcurrency ?? 4);
    for (let i = 0; i < hosts.length; i += width) {
      await Promise.all(hosts.slice(i, i + width).map(async (host) => {
        try {
          const outcome = await check(host);
          if (outcome === 'not-pending') return;
          result.checked++;
          if (outcome === 'active') result.active.push(host);
          if (outcome === 'failed') result.failed.push(host);
        } catch (err) {
          failures.push({ host, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
        }
      }));
    }
    if (failures.length > 0) throw new DomainsReconcileError(failures, result);
    return result;
  };

  const onDomainRemoved = defineHandler({
    name: 'DomainsOnDomainRemoved',
    accepts: [EventType.DomainRemoved],
    ...idem,
    handle: async (e) => {
      // The certificate of the adding this removal ended: the last one requested before it.
      const history = await deps.store.readStream(streams.domain(e.data.host));
      const at = history.findIndex((x) => x.metadata.eventId === e.id);
      const requested = history.slice(0, at < 0 ? 0 : at).reverse().find((x) => x.type === EventType.CertificateRequested);
      // Off the edge first: the certificate of a host still attached cannot be deleted.
      if (deps.edge && fold(decider, history).status === 'removed') await deps.edge.detach(e.data.host);
      if (requested) await deps.ca.release((requested.data as { certificateId: string }).certificateId);
      // The records shiplog created for that adding, in the account's zones.
      const pending = history.slice(0, at < 0 ? 0 : at).reverse().find((x) => x.type === EventType.DomainValidationPending);
      const created = ((pending?.data as { records?: DnsRecord[] } | undefined)?.records ?? []).filter((r) => r.zone);
      if (deps.dns && created.length > 0 && fold(decider, history).status === 'removed') await deps.dns.remove(created);
    },
  });

  return { onDomainAdded, onValidationPending, onDomainRemoved, reconcile };
};

export type DomainsService = ReturnType<typeof domainsService>;
