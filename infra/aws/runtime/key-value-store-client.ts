import { CloudFrontKeyValueStoreClient, type CloudFrontKeyValueStoreClientConfig } from '@aws-sdk/client-cloudfront-keyvaluestore';
// CloudFront KeyValueStore's API signs with SigV4a, which the SDK takes from this package.
import '@aws-sdk/signature-v4a';

/**
 * The CloudFront KeyValueStore client of the sites' routing. Its endpoint rules put the account
 * id in front of the host (`<account>.cloudfront-kvs.global.api.aws`); with a custom endpoint
 * (`AWS_ENDPOINT_URL`, the AWS box) that host would not resolve (and an IP endpoint is no URL at
 * all), so there the client talks to the endpoint's own host, with `localhost` standing for an
 * IP while the rules run.
 *
 * @example
 * const kvs = sitesKeyValueStoreClient(process.env.AWS_ENDPOINT_URL);
 */
export const sitesKeyValueStoreClient = (endpoint?: string, config: Omit<CloudFrontKeyValueStoreClientConfig, 'endpoint'> = {}): CloudFrontKeyValueStoreClient => {
  if (!endpoint) return new CloudFrontKeyValueStoreClient(config);
  const url = new URL(endpoint);
  const client = new CloudFrontKeyValueStoreClient({ ...config, endpoint: `${url.protocol}//localhost${url.port ? `:${url.port}` : ''}` });
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { hostname?: string; headers?: Record<string, string> };
      request.hostname = url.hostname;
      if (request.headers) request.headers.host = url.host;
      return next(args);
    },
    { step: 'build', name: 'shiplogCustomEndpointHost' },
  );
  return client;
};
