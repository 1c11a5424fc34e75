// The AWS app. Everything it declares is in infra/aws (pure functions of the topology, tested
// offline under Pulumi mocks); this file only supplies SST: the app settings, `sst.aws.Function`
// (which builds each handler), the links and the dashboard's `sst.aws.Nextjs` (with its sign-in
// and API token, infra/aws/hosted-dashboard.ts; SHIPLOG_DASHBOARD_AUTH=none leaves it out).
// SST forbids top-level imports here, hence the dynamic imports inside run(). Type-checked by
// tsconfig.infra.json against .sst/platform.

export default $config({
  app(input) {
    return {
      name: 'shiplog',
      home: 'aws',
      // Events are kept forever: production keeps its resources when the stage is removed.
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      protect: input?.stage === 'production',
    };
  },
  async run() {
    const { declareShiplog, githubConnectionFrom, stackNames, PRODUCTION_STAGE } = await import('./infra/aws/index.ts');
    const { subscriptions } = await import('./infra/topology.ts');
    type Spec = Parameters<Parameters<typeof declareShiplog>[1]['declareFunction']>[0];
    // The domain sites are served on (`<project>.<domain>`): a setting of the stage, not a secret.
    const siteDomain = process.env.SHIPLOG_SITE_DOMAIN;
    if (!siteDomain) throw new Error('set SHIPLOG_SITE_DOMAIN (for example apps.example.com) to the domain this stage serves sites on');

    // One sst.Linkable per linked resource, shared by every function linked to it.
    const linkables = new Map<string, sst.Linkable<Record<string, unknown>>>();
    const linkable = (link: Spec['links'][number]) => {
      const existing = linkables.get(link.name);
      if (existing) return existing;
      const created = new sst.Linkable(link.name, {
        properties: link.properties,
        include: link.permissions.map((p) => sst.aws.permission(p)),
      });
      linkables.set(link.name, created);
      return created;
    };

    const names = stackNames($app.name, $app.stage);
    const declareFunction = (spec: Spec) =>
      new sst.aws.Function(spec.name, {
        handler: spec.handler,
        description: spec.description,
        runtime: 'nodejs22.x',
        ...(spec.timeoutSeconds ? { timeout: `${spec.timeoutSeconds} seconds` as const } : {}),
        environment: spec.environment,
        link: spec.links.map(linkable),
        permissions: spec.permissions,
      });
    const stack = declareShiplog(
      { aws, pulumi: $util },
      {
        names,
        subscriptions,
        protect: $app.stage === PRODUCTION_STAGE,
        siteDomain,
        declareFunction,
        // How builds fetch GitHub sources: a declared CodeConnections connection unless
        // SHIPLOG_GITHUB_CONNECTION is `none` or an existing connection's ARN.
        githubConnection: githubConnectionFrom(process.env),
      },
    );

    // The dashboard, on every stage: signing in through Cognito (a user pool, its hosted UI and the
    // dashboard's app client are declared with it) unless SHIPLOG_DASHBOARD_AUTH=oidc (any provider:
    // SHIPLOG_DASHBOARD_OIDC_*) or none (no dashboard), at deploy time. It signs in through
    // openid-client (dashboard/lib/auth/oidc.ts), reads its app client, session key and API token
    // (a `dashboard` token made on each deploy) from SSM SecureStrings, reads the event store and the
    // views table, writes neither, and sends commands to the stack's API as the signed-in user
    // (infra/aws/hosted-dashboard.ts).
    const { declareHostedDashboard } = await import('./infra/aws/hosted-dashboard.ts');
    const hosted = declareHostedDashboard(
      { aws, pulumi: $util },
      {
        names, scope: stack.scope, env: process.env, siteDomain, protect: $app.stage === PRODUCTION_STAGE, apiUrl: stack.api.url, secrets: stack.secrets.resources,
        tokens: stack.api.tokens, declareFunction, deployedAt: new Date().toISOString(),
        declareNextjs: (spec) =>
          new sst.aws.Nextjs(spec.name, {
            path: spec.path,
            environment: spec.environment,
            permissions: spec.permissions,
            ...(spec.domain ? { domain: spec.domain } : {}),
          }),
      },
    );

    return {
      bus: stack.bus.name,
      eventsTable: stack.table.name,
      viewsTable: stack.views.name,
      outbox: stack.outbox.pipe.name,
      buildProject: stack.adapters.build.project.name,
      artifactsBucket: stack.adapters.buckets.artifacts.bucket.bucket,
      sitesBucket: stack.adapters.buckets.sites.bucket.bucket,
      // The platform API. The first login needs no token: `shiplog login --aws <adminTokenFunction>`
      // invokes that function (AWS credentials allowed to invoke it) and stores the token it makes.
      api: stack.api.url,
      adminTokenFunction: stack.api.adminToken.name,
      // Sites: `<project>.<siteDomain>` through one multi-tenant distribution, routed by the key
      // value store. Create the certificate's validation records (CNAMEs) in the domain's DNS:
      // the first deploy waits for ACM to issue it.
      siteDomain,
      distribution: stack.edge.distribution.id,
      keyValueStore: stack.edge.keyValueStore.arn,
      certificateValidationRecords: stack.edge.validationRecords,
      // Point `*.<siteDomain>` (and each custom domain, shown by `shiplog domains ls`) here: the
      // routing endpoint of the tenants' connection group.
      sitesDnsTarget: aws.cloudfront.getConnectionGroupOutput({ id: stack.edge.tenant.connectionGroupId }).routingEndpoint,
      // GitHub sources: complete this connection once in the console (Developer Tools → Settings →
      // Connections) while its status is PENDING; then builds fetch private repositories through it.
      ...(stack.adapters.build.github.arn ? { githubConnection: stack.adapters.build.github.arn } : {}),
      ...(stack.adapters.build.github.connection ? { githubConnectionStatus: stack.adapters.build.github.connection.connectionStatus } : {}),
      // The dashboard, and the redirect URL its OIDC client is registered with.
      ...(hosted ? { dashboard: hosted.nextjs.url, dashboardSignInCallback: hosted.redirectUri } : {}),
      ...(hosted?.pool ? { dashboardUserPool: hosted.pool.userPool.id } : {}),
    };
  },
});
