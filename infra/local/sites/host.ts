import { branchOfHostLabel } from '../../../services/deploy/index.ts';

/**
 * What a request's `Host` names: a project's production alias (`web.localhost`), a preview
 * branch's latest live deployment (`feature-login--web.localhost`, the alias
 * `preview-feature-login`), or one deployment of it forever
 * (`01jd2z8j6x3q4r5s6t7v8w9xyz-web.localhost`). Host names are case-insensitive, so the
 * deployment id comes lowercased; the router finds the real one. `orProject`: the whole label is
 * a project id too (project ids may hold `--`); the router serves that project's production
 * when it has one, so a branch URL never hides an existing project.
 *
 * @example
 * const a: SiteAddress = { kind: 'deployment', projectId: 'web', deploymentId: '01jd2z8j6x3q4r5s6t7v8w9xyz' };
 * const b: SiteAddress = { kind: 'alias', projectId: 'web', alias: 'preview-feature-login', orProject: 'feature-login--web' };
 */
export type SiteAddress =
  | { kind: 'alias'; projectId: string; alias: string; orProject?: string }
  | { kind: 'deployment'; projectId: string; deploymentId: string };

const projectIdPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A ULID in lowercase Crockford base32 (no i, l, o, u), then a hyphen, then the project. */
const deploymentLabel = /^([0-9a-hjkmnp-tv-z]{26})-(.+)$/;

/**
 * Parses a `Host` header under `domain` (port ignored). Project ids may contain hyphens, so a
 * label is a deployment only when what precedes its first hyphen is a ULID; ULIDs have no
 * hyphen, so the split is unambiguous for deployment ids that are ULIDs. Anything else
 * (another domain, a nested subdomain, an IP, an invalid project id) is `undefined`. Branch
 * URLs are {@link parseSiteAddress}'s.
 *
 * Note a DNS label holds 63 characters, so deployment URLs fit projects of up to 36.
 *
 * @example
 * parseSiteHost('web.localhost:3001'); // { kind: 'alias', projectId: 'web', alias: 'production' }
 * parseSiteHost('01JD2Z8J6X3Q4R5S6T7V8W9XYZ-my-app.localhost');
 * // { kind: 'deployment', projectId: 'my-app', deploymentId: '01jd2z8j6x3q4r5s6t7v8w9xyz' }
 * parseSiteHost('example.com'); // undefined
 */
export const parseSiteHost = (host: string | undefined, domain = 'localhost'): SiteAddress | undefined => {
  if (!host) return undefined;
  const name = host.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const suffix = `.${domain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return undefined;
  const label = name.slice(0, -suffix.length);
  if (label.includes('.')) return undefined;
  const m = deploymentLabel.exec(label);
  if (m && projectIdPattern.test(m[2]!)) return { kind: 'deployment', projectId: m[2]!, deploymentId: m[1]! };
  return projectIdPattern.test(label) ? { kind: 'alias', projectId: label, alias: 'production' } : undefined;
};

/**
 * {@link parseSiteHost} plus preview branch URLs, as the local router reads hosts: a label
 * `<branch slug>--<project>` names the alias `preview-<branch slug>` (slugs never hold `--`, so
 * the first `--` splits it), with `orProject` the whole label, which is a project id too.
 *
 * @example
 * parseSiteAddress('feature-login--web.localhost:3001');
 * // { kind: 'alias', projectId: 'web', alias: 'preview-feature-login', orProject: 'feature-login--web' }
 * parseSiteAddress('web.localhost'); // { kind: 'alias', projectId: 'web', alias: 'production' }
 */
export const parseSiteAddress = (host: string | undefined, domain = 'localhost'): SiteAddress | undefined => {
  const parsed = parseSiteHost(host, domain);
  if (parsed?.kind !== 'alias') return parsed;
  const branch = branchOfHostLabel(parsed.projectId);
  return branch && projectIdPattern.test(branch.projectId)
    ? { kind: 'alias', projectId: branch.projectId, alias: branch.alias, orProject: parsed.projectId }
    : parsed;
};
