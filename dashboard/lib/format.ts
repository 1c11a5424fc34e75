/** Display helpers shared by server and client components. Pure. */

/** `850ms`, `12.4s`, `3m 05s`, `2h 04m`; an em dash when unknown. */
export const duration = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.round(h / 24)}d`;
};

/** `just now`, `5m ago`, `3h ago`, `12d ago`, or the date. */
export const relative = (iso: string | null | undefined, nowMs = Date.now()): string => {
  if (!iso) return '—';
  const diff = Math.max(0, nowMs - Date.parse(iso));
  if (diff < 45_000) return 'just now';
  const m = Math.round(diff / 60_000);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h}h ago`;
  const d = Math.round(h / 24);
  return d < 60 ? `${d}d ago` : iso.slice(0, 10);
};

/** `2026-11-22 10:00:05 UTC`. */
export const utc = (iso: string | null | undefined): string => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '—');

export const shortSha = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '—');

/** The end of a ULID: its random, distinctive part. */
export const shortId = (id: string): string => id.slice(-8).toLowerCase();

export const percent = (ratio: number | null | undefined): string => (ratio === null || ratio === undefined ? '—' : `${Math.round(ratio * 1000) / 10}%`);

export const perDay = (n: number): string => (n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2));

/** The host of a URL, for showing links. */
export const hostOf = (url: string): string => {
  try {
    const u = new URL(url);
    return u.host;
  } catch {
    return url;
  }
};
