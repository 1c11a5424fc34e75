import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="content">
      <div className="empty tall">
        <div className="empty-mark" aria-hidden>
          404
        </div>
        <h3>Nothing here</h3>
        <div className="empty-body">No project, deployment or event by that name. It may not have reached the read models yet.</div>
        <div className="empty-action">
          <Link href="/" className="button secondary">
            Back to projects
          </Link>
        </div>
      </div>
    </main>
  );
}
