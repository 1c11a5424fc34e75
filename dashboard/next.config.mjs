import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The dashboard imports the projections, the event store and the event catalog straight from the
// repository (one program), so the build's root is the repository, not this folder.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @type {import('next').NextConfig} */
const config = {
  turbopack: { root },
  outputFileTracingRoot: root,
  // Required from node_modules at run time rather than bundled: one copy in the dashboard's process.
  serverExternalPackages: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-ssm', 'openid-client'],
  poweredByHeader: false,
  // Server-sent events (build logs) must not sit in a compression buffer; CloudFront compresses on AWS.
  compress: false,
  reactStrictMode: true,
  experimental: { serverActions: { bodySizeLimit: '128kb' } },
};

export default config;
