import {
  CreateDistributionTenantCommand, DeleteDistributionTenantCommand, GetDistributionTenantCommand, UpdateDistributionTenantCommand,
  type CloudFrontClient, type DistributionTenant,
} from '@aws-sdk/client-cloudfront';
import { awsErrorName, awsErrorTranslator, ConfigError, RetryableError } from '../../../shell/index.ts';
import type { DomainEdge } from '../../ports.ts';

/**
 * CloudFront cannot take the change now (another change of the tenant in between, a tenant still
 * being disabled, throttling). Retryable.
 *
 * @example
 * catch (e) { if (e instanceof DomainEdgeBusyError) e.retryable; } // true
 */
export class DomainEdgeBusyError extends RetryableError {
  override readonly name = 'DomainEdgeBusyError';
}

/**
 * The sites distribution refuses the domain or the caller (no access, the host is another
 * distribution's CNAME, a tenant quota). Not retryable until someone fixes it.
 *
 * @example
 * catch (e) { if (e instanceof DomainEdgeConfigError) alert(e.message); }
 */
export class DomainEdgeConfigError extends ConfigError {
  override readonly name = 'DomainEdgeConfigError';
}

const translate = awsErrorTranslator({
  prefix: 'CloudFront: ',
  busy: ['PreconditionFailed', 'InvalidIfMatchVersion', 'ResourceNotDisabled', 'ResourceInUse'],
  misconfigured: ['AccessDenied', 'InvalidArgument', 'CNAMEAlreadyExists', 'EntityLimitExceeded', 'InvalidAssociation', 'InvalidTagging'],
  Busy: DomainEdgeBusyError,
  Config: DomainEdgeConfigError,
});

/**
 * The distribution tenant name of a custom host: `<prefix>-<host>` with anything CloudFront does
 * not allow in a name made a hyphen, at most 128 characters.
 *
 * @example
 * tenantName('shiplog', 'www.example.com'); // 'shiplog-www.example.com'
 */
export const tenantName = (prefix: string, host: string): string => `${prefix}-${host}`.replace(/[^a-zA-Z0-9.-]/g, '-').slice(0, 128).replace(/[^a-zA-Z0-9]+$/, '');

/**
 * Options of {@link cloudFrontDomainEdge}. `route` writes (or, with no target, removes) the
 * host's entry in the sites' routing state.
 *
 * @example
 * const opts: CloudFrontDomainEdgeOptions = { cloudfront, distributionId: 'E2ABC', prefix: 'shiplog', route: async () => {} };
 */
export interface CloudFrontDomainEdgeOptions {
  cloudfront: Pick<CloudFrontClient, 'send'>;
  /** The sites' multi-tenant distribution. */
  distributionId: string;
  prefix: string;
  route: (host: string, target?: { projectId: string; alias: string } | { redirectTo: string }) => Promise<void>;
}

/**
 * Custom domains on the sites' multi-tenant distribution (CloudFront SaaS Manager): one
 * distribution tenant per host, carrying the host and its ACM certificate (us-east-1), enabled;
 * then the host's routing entry, so the shared viewer-request function serves it as its project
 * alias or redirects it. `detach` removes the routing entry, then disables and deletes the
 * tenant; CloudFront deletes only a disabled tenant whose change has deployed, so until then
 * `detach` fails as busy and its retry finishes it.
 *
 * @example
 * const edge = cloudFrontDomainEdge({ cloudfront: new CloudFrontClient({}), distributionId, prefix: 'shiplog', route });
 * await edge.attach({ host: 'www.example.com', projectId: 'web', alias: 'production', certificateId: certArn });
 */
export const cloudFrontDomainEdge = (opts: CloudFrontDomainEdgeOptions): DomainEdge => {
  const { cloudfront } = opts;
  const get = async (host: string): Promise<{ tenant: DistributionTenant; etag: string } | undefined> => {
    try {
      const out = await cloudfront.send(new GetDistributionTenantCommand({ Identifier: tenantName(opts.prefix, host) }));
      return out.DistributionTenant ? { tenant: out.DistributionTenant, etag: out.ETag ?? '' } : undefined;
    } catch (err) {
      if (awsErrorName(err) === 'EntityNotFound') return undefined;
      return translate(err);
    }
  };

  return {
    async attach({ host, projectId, alias, redirectTo, certificateId }) {
      const wanted = { DistributionId: opts.distributionId, Domains: [{ Domain: host }], Customizations: { Certificate: { Arn: certificateId } }, Enabled: true };
      const have = await get(host);
      if (!have) {
        await cloudfront.send(new CreateDistributionTenantCommand({ ...wanted, Name: tenantName(opts.prefix, host), Tags: { Items: [{ Key: 'shiplog:project', Value: projectId }] } }))
          .catch((err: unknown) => (awsErrorName(err) === 'EntityAlreadyExists' ? undefined : translate(err)));
      } else if (!have.tenant.Enabled || have.tenant.Customizations?.Certificate?.Arn !== certificateId || have.tenant.DistributionId !== opts.distributionId) {
        await cloudfront.send(new UpdateDistributionTenantCommand({ ...wanted, Id: have.tenant.Id!, IfMatch: have.etag })).catch(translate);
      }
      await opts.route(host, redirectTo ? { redirectTo } : { projectId, alias });
    },

    async detach(host) {
      await opts.route(host);
      const have = await get(host);
      if (!have) return;
      let etag = have.etag;
      if (have.tenant.Enabled) {
        const out = await cloudfront.send(new UpdateDistributionTenantCommand({
          Id: have.tenant.Id!, IfMatch: etag, DistributionId: have.tenant.DistributionId, Domains: have.tenant.Domains?.map((d) => ({ Domain: d.Domain! })), Enabled: false,
        })).catch(translate);
        etag = out.ETag ?? etag;
      }
      await cloudfront.send(new DeleteDistributionTenantCommand({ Id: have.tenant.Id!, IfMatch: etag }))
        .catch((err: unknown) => (awsErrorName(err) === 'EntityNotFound' ? undefined : translate(err)));
    },
  };
};
