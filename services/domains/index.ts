/**
 * The domains service: custom domains with automatic TLS (ACM on AWS, a local CA on one machine).
 */
export { localCertificateAuthority, type LocalCaOptions } from './adapters/certificate-authority/local.ts';
export { AddDomainInput, DomainRequestError, domainCommands, type DomainCommands, type DomainCommandDeps } from './commands.ts';
export { decide, evolve, initialState, isAttached, type DomainCommand, type DomainState } from './decider.ts';
export * from './ports.ts';
export { customHostResolver, type ResolvedHost } from './resolver.ts';
export { DomainsReconcileError, domainsService, type DomainsReconciled, type DomainsService, type DomainsServiceDeps } from './service.ts';
export { toDomainView, type DomainView } from './view.ts';
