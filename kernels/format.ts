// Numbers for people, the same wherever they are shown: the panel (webview), the status bar and
// notifications (extension) and the command line. Pure functions, no imports, so every side can use
// them without importing another side's code.

function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A count for people: 950, 12.3k, 4.56M. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  if (a < 1e6) return `${trim((n / 1e3).toFixed(a < 1e4 ? 2 : 1))}k`;
  if (a < 1e9) return `${trim((n / 1e6).toFixed(a < 1e7 ? 2 : 1))}M`;
  return `${trim((n / 1e9).toFixed(2))}G`;
}

/** A duration label: 45s, 2m30s, 1h05m, 2d3h, 12d. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${String(s % 60).padStart(2, '0')}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  const d = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600);
  return d >= 10 || hours === 0 ? `${d}d` : `${d}d${hours}h`;
}

/** Bytes for people: 900 B, 12.3 KiB, 4.5 MiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${trim(v.toFixed(v < 10 ? 2 : 1))} ${units[u]}`;
}
