import { startSitesEdge } from '../../support/sites-edge.ts';
import { latencyRow, sample, type BenchRow, type BenchSuite } from '../lib.ts';

// Rollback on the AWS box's sites edge (issue 13): the AWS site host's alias shift (the Lambda
// alias, then one KeyValueStore write) → the front door, running the declared CloudFront
// Function, serves the old deployment. No build: two small published deployments.
const ROLLBACKS = Number(process.env.BENCH_EDGE_ROLLBACKS ?? 20);

export const sitesEdgeBench: BenchSuite = async () => {
  const edge = await startSitesEdge();
  try {
    const [one, two] = [await edge.deploy('web', 'one'), await edge.deploy('web', 'two')];
    const shift = (deploymentId: string) => edge.host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId });
    const serves = async (tag: string) => (await edge.get('web.sites.localhost', '/')).body.startsWith(`${tag} `);
    await shift(two);
    for (let i = 0; i < 20; i++) await edge.get('web.sites.localhost', '/');
    const oneRequest = await sample(50, () => edge.get('web.sites.localhost', '/'));
    const times: number[] = [];
    for (let i = 0; i < ROLLBACKS; i++) {
      const t0 = performance.now();
      await shift(one);
      while (!(await serves('one')));
      times.push(performance.now() - t0);
      await shift(two);
      while (!(await serves('two')));
    }
    return [
      latencyRow(`sites edge on the AWS box: rollback → production serves the old version (n=${ROLLBACKS}; vs one request)`, times.sort((a, b) => a - b), oneRequest),
    ] satisfies BenchRow[];
  } finally {
    await edge.stop();
  }
};
