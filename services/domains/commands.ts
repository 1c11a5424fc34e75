import { z } from 'zod';
import type { Actor } from '../../events/index.ts';
import { Alias, Host, streamPrefixOf, streams } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { execute, load } from '../shell/index.ts';
import { domainDecider, isAttached, type DomainCommand, type DomainState } from './decider.ts';
import { toDomainView, type DomainView } from './view.ts';

/** A request the domains API refuses, with the HTTP status it answers with. */
export class DomainRequestError extends Error {
  override readonly name = 'DomainRequestError';
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
  }
}

/**
 * The body of `POST /api/projects/:project/domains`.
 *
 * @example
 * AddDomainInput.parse({ host: 'www.example.com' }); // alias defaults to 'production'
 */
export const AddDomainInput = z.strictObject({
  host: z.string(),
  alias: Alias.default('production'),
  redirectTo: Host.optional(),
});

export interface DomainCommandDeps {
  store: EventStore;
  ids: () => string;
  now: () => string;
  /** Domains of shiplog's own sites, never custom domains (default `localhost`). */
  reservedDomains?: readonly string[];
}

const decider = domainDecider;

/**
 * The command side of the domains service: add, remove and list a project's custom domains.
 * A host belongs to at most one project: its stream (`domain#<host>`) says who holds it, and
 * the append's expected version settles two projects adding it at once.
 *
 * @example
 * const domains = domainCommands({ store, ids, now });
 * await domains.add('web', { host: 'www.example.com' }, actor);
 */
export const domainCommands = (deps: DomainCommandDeps) => {
  const reserved = deps.reservedDomains ?? ['localhost'];
  const fold = async (host: string): Promise<DomainState> => load(deps.store, streams.domain(host), decider);
  const ctx = (actor: Actor) => ({ ids: deps.ids, now: deps.now, cause: null, actor });

  const validHost = (raw: string): string => {
    const host = Host.safeParse(raw);
    if (!host.success) throw new DomainRequestError(400, `"${raw}" is not a valid host: use a lowercase DNS name such as www.example.com`);
    if (reserved.some((d) => host.data === d || host.data.endsWith(`.${d}`))) {
      throw new DomainRequestError(400, `"${raw}" is under ${reserved.join(', ')}, where shiplog serves its own sites`);
    }
    return host.data;
  };

  const add = async (projectId: string, body: unknown, actor: Actor): Promise<{ created: boolean; domain: DomainView }> => {
    const input = AddDomainInput.safeParse(body);
    if (!input.success) throw new DomainRequestError(400, `invalid domain: ${z.prettifyError(input.error)}`);
    const host = validHost(input.data.host);
    if (input.data.redirectTo === host) throw new DomainRequestError(400, 'a domain cannot redirect to itself');
    if ((await deps.store.streamVersion(streams.project(projectId))) === 0) throw new DomainRequestError(404, `no project "${projectId}"`);
    const { appended, state } = await execute(deps.store, streams.domain(host), decider, (s): DomainCommand => {
      if (isAttached(s) && s.projectId !== projectId) throw new DomainRequestError(409, `${host} is already used by another project`);
      if (isAttached(s) && s.alias !== input.data.alias) throw new DomainRequestError(409, `${host} already serves ${s.alias}: remove it first`);
      return { type: 'Add', projectId, host, alias: input.data.alias, ...(input.data.redirectTo ? { redirectTo: input.data.redirectTo } : {}) };
    }, ctx(actor));
    return { created: appended.length > 0, domain: toDomainView(state) };
  };

  const remove = async (projectId: string, rawHost: string, actor: Actor): Promise<{ removed: string }> => {
    const host = Host.safeParse(rawHost).success ? rawHost : undefined;
    const notFound = () => new DomainRequestError(404, `project "${projectId}" has no domain "${rawHost}"`);
    if (!host) throw notFound();
    await execute(deps.store, streams.domain(host), decider, (s): DomainCommand => {
      if (s.projectId !== projectId || (!isAttached(s) && s.status !== 'failed')) throw notFound();
      return { type: 'Remove', projectId };
    }, ctx(actor));
    return { removed: host };
  };

  const list = async (projectId: string): Promise<DomainView[]> => {
    const hosts = new Set<string>();
    for (const e of await deps.store.readProject(projectId)) {
      if (streamPrefixOf(e.metadata.streamId) === 'domain') hosts.add((e.data as { host: string }).host);
    }
    // The project index says which hosts it ever touched; each stream says who holds it now.
    const states = await Promise.all([...hosts].sort().map(fold));
    return states.filter((s) => s.projectId === projectId && s.status !== 'removed').map(toDomainView);
  };

  return { add, remove, list, get: async (host: string) => toDomainView(await fold(host)) };
};

export type DomainCommands = ReturnType<typeof domainCommands>;
