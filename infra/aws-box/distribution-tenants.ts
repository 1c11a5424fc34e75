import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readText } from './http-body.ts';

// The box's stand-in for CloudFront SaaS Manager's distribution tenants, which moto does not
// model: Create/Get/Update/DeleteDistributionTenant over CloudFront's REST-XML API, with ETag
// preconditions, and `servesHost` for the front door (CloudFront answers a host only when an
// enabled tenant carries it). Changes are deployed at once; a tenant must be disabled before
// it is deleted, as on CloudFront.

interface Tenant {
  id: string;
  arn: string;
  name: string;
  distributionId: string;
  domains: string[];
  certificateArn?: string;
  enabled: boolean;
  etag: string;
  created: string;
  modified: string;
}

class CloudFrontError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescape(m[1]!) : undefined;
};

/**
 * Distribution tenants for the box's AWS endpoint (requests signed for `cloudfront` under
 * `/2020-05-31/distribution-tenant`; `route` answers false for any other CloudFront request, which
 * goes on to moto).
 *
 * @example
 * const tenants = distributionTenantStandIn({ account: '123456789012' });
 * if (await tenants.route(req, res)) return;
 * tenants.servesHost('www.example.com'); // true once an enabled tenant carries it
 */
export const distributionTenantStandIn = (opts: { account: string }) => {
  const byId = new Map<string, Tenant>();
  const find = (idOrName: string) => byId.get(idOrName) ?? [...byId.values()].find((t) => t.name === idOrName || t.arn === idOrName);
  const xmlOf = (t: Tenant) =>
    `<?xml version="1.0" encoding="UTF-8"?><DistributionTenant xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">`
    + `<Id>${t.id}</Id><DistributionId>${escape(t.distributionId)}</DistributionId><Name>${escape(t.name)}</Name><Arn>${t.arn}</Arn>`
    + `<Domains>${t.domains.map((d) => `<member><Domain>${escape(d)}</Domain><Status>active</Status></member>`).join('')}</Domains>`
    + (t.certificateArn ? `<Customizations><Certificate><Arn>${escape(t.certificateArn)}</Arn></Certificate></Customizations>` : '')
    + `<CreatedTime>${t.created}</CreatedTime><LastModifiedTime>${t.modified}</LastModifiedTime><Enabled>${t.enabled}</Enabled><Status>Deployed</Status></DistributionTenant>`;
  const send = (res: ServerResponse, status: number, t?: Tenant) => {
    res.writeHead(status, { 'content-type': 'text/xml', ...(t ? { etag: t.etag } : {}) });
    res.end(t ? xmlOf(t) : '');
  };
  const parse = (xml: string) => {
    const domains = [...(tag(xml, 'Domains') ?? '').matchAll(/<Domain>([^<]*)<\/Domain>/g)].map((m) => unescape(m[1]!).toLowerCase());
    const enabled = tag(xml, 'Enabled');
    return {
      distributionId: tag(xml, 'DistributionId'), name: tag(xml, 'Name'), domains,
      certificateArn: tag(tag(xml, 'Certificate') ?? '', 'Arn'), enabled: enabled === undefined ? undefined : enabled === 'true',
    };
  };
  const claimed = (domains: string[], except?: Tenant) =>
    domains.find((d) => [...byId.values()].some((t) => t !== except && t.domains.includes(d)));

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://box').pathname;
    const m = /^\/2020-05-31\/distribution-tenant(?:\/([^/]+))?$/.exec(path);
    if (!m) return false;
    const id = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    const ifMatch = req.headers['if-match'];
    const now = new Date().toISOString();
    if (id === undefined && req.method === 'POST') {
      const p = parse(await readText(req));
      if (!p.name || !p.distributionId || p.domains.length === 0) throw new CloudFrontError(400, 'InvalidArgument', 'DistributionId, Name and Domains are required');
      if (find(p.name)) throw new CloudFrontError(409, 'EntityAlreadyExists', `a tenant named ${p.name} exists`);
      const taken = claimed(p.domains);
      if (taken) throw new CloudFrontError(409, 'CNAMEAlreadyExists', `${taken} is already on another tenant`);
      const tenantId = `dt_${randomBytes(12).toString('hex')}`;
      const t: Tenant = {
        id: tenantId, arn: `arn:aws:cloudfront::${opts.account}:distribution-tenant/${tenantId}`, name: p.name, distributionId: p.distributionId,
        domains: p.domains, ...(p.certificateArn ? { certificateArn: p.certificateArn } : {}), enabled: p.enabled ?? true, etag: randomUUID(), created: now, modified: now,
      };
      byId.set(t.id, t);
      return send(res, 201, t), true;
    }
    const t = id === undefined ? undefined : find(id);
    if (!t) throw new CloudFrontError(404, 'EntityNotFound', `no distribution tenant ${id ?? ''}`);
    if (req.method === 'GET') return send(res, 200, t), true;
    if (ifMatch !== t.etag) throw new CloudFrontError(412, 'PreconditionFailed', 'the tenant changed since its ETag was read');
    if (req.method === 'PUT') {
      const p = parse(await readText(req));
      const taken = claimed(p.domains, t);
      if (taken) throw new CloudFrontError(409, 'CNAMEAlreadyExists', `${taken} is already on another tenant`);
      Object.assign(t, {
        ...(p.distributionId ? { distributionId: p.distributionId } : {}), ...(p.domains.length ? { domains: p.domains } : {}),
        ...(p.certificateArn ? { certificateArn: p.certificateArn } : {}), ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
        etag: randomUUID(), modified: now,
      });
      return send(res, 200, t), true;
    }
    if (req.method === 'DELETE') {
      if (t.enabled) throw new CloudFrontError(409, 'ResourceNotDisabled', 'disable the tenant before deleting it');
      byId.delete(t.id);
      return send(res, 204), true;
    }
    throw new CloudFrontError(405, 'InvalidArgument', `${req.method} is not a distribution tenant operation`);
  };

  return {
    /** A tenant the stack declares (the platform's `*.<siteDomain>`), as a deploy of the stack would create it. */
    declare(spec: { name: string; distributionId: string; domains: string[]; certificateArn?: string }): void {
      if (find(spec.name)) return;
      const now = new Date().toISOString();
      const tenantId = `dt_${randomBytes(12).toString('hex')}`;
      byId.set(tenantId, {
        id: tenantId, arn: `arn:aws:cloudfront::${opts.account}:distribution-tenant/${tenantId}`, name: spec.name, distributionId: spec.distributionId,
        domains: spec.domains.map((d) => d.toLowerCase()), ...(spec.certificateArn ? { certificateArn: spec.certificateArn } : {}),
        enabled: true, etag: randomUUID(), created: now, modified: now,
      });
    },
    async route(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      try {
        return await serve(req, res);
      } catch (err) {
        const e = err instanceof CloudFrontError ? err : new CloudFrontError(500, 'InternalError', (err as Error).message);
        res.writeHead(e.status, { 'content-type': 'text/xml' });
        res.end(`<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${escape(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
        return true;
      }
    },
    /** Whether an enabled tenant carries the host: what CloudFront needs to answer it at all. */
    servesHost(host: string): boolean {
      const h = host.toLowerCase();
      return [...byId.values()].some((t) => t.enabled && t.domains.some((d) => d === h || (d.startsWith('*.') && h.endsWith(d.slice(1)) && !h.slice(0, -d.length + 1).includes('.'))));
    },
    /** The tenants, for tests and the box's report. */
    list: () => [...byId.values()].map((t) => ({ ...t, domains: [...t.domains] })),
  };
};

export type DistributionTenantStandIn = ReturnType<typeof distributionTenantStandIn>;
