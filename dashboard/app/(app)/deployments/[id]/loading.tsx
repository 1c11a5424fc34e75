import { Skeleton } from '../../../../components/bits.tsx';

/** The deployment page's shape while it reads: head, overview, log. */
export default function DeploymentLoading() {
  return (
    <div aria-busy aria-label="Loading" className="loading">
      <div className="page-head">
        <Skeleton height={28} width={300} />
      </div>
      <div className="panel">
        <Skeleton height={120} />
      </div>
      <div style={{ height: 24 }} />
      <div className="log">
        <Skeleton height={240} />
      </div>
    </div>
  );
}
