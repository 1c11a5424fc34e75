'use client';

import { useEffect } from 'react';

/** A page that failed to render: what happened, and a way to try again. */
export default function ErrorView({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="empty tall" role="alert">
      <div className="empty-mark error" aria-hidden>
        !
      </div>
      <h3>This page could not be loaded</h3>
      <div className="empty-body">
        <p>The dashboard could not read what it needed. If shiplog is still starting, or DynamoDB is busy, trying again usually works.</p>
        {error.digest ? <p className="muted mono small">Reference: {error.digest}</p> : null}
      </div>
      <div className="empty-action">
        <button type="button" className="button primary" onClick={() => reset()}>
          Try again
        </button>
      </div>
    </div>
  );
}
