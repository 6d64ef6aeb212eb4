export function fmtTime(ms?: number): string {
  if (!ms) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtAgo(ms?: number): string {
  if (!ms) return '';
  const s = (Date.now() - ms) / 1000;
  if (s < 60) return `${Math.max(0, Math.round(s))}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return fmtTime(ms).slice(0, 10);
}

export function fmtDuration(start?: number, end?: number, running = false): string {
  if (!start) return '';
  const e = end || (running ? Date.now() : 0);
  if (!e) return '';
  let s = Math.max(0, (e - start) / 1000);
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s = Math.round(s - m * 60);
  return h ? `${h}h ${m}m` : `${m}m ${s}s`;
}

export function fmtNum(v: number | string | undefined | null): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e7)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

export function fmtBytes(n?: number): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function tag(tags: { key: string; value: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.key === key)?.value;
}

/** px formats a CSS length; Preact 11 no longer appends "px" to numbers in style objects. */
export function px(n: number): string {
  return `${n}px`;
}

const UNITS: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];

/**
 * fmtShort abbreviates a number for axis labels and bars: 2236682 is
 * "2.24M", 0.000012 is "1.2e-5". `incr` is the spacing of neighbouring
 * labels, so that they keep enough digits to differ.
 */
export function fmtShort(v: number, incr?: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e15 || a < 1e-4) return v.toExponential(incr !== undefined && incr > 0 ? Math.max(0, Math.min(6, Math.ceil(Math.log10(a / incr)))) : 2).replace(/\.?0+e/, 'e');
  for (const [u, s] of UNITS) {
    if (a >= u && (a >= 1e4 || u >= 1e6)) {
      const d = incr !== undefined && incr > 0 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(incr / u) + 1e-9))) : 3 - Math.floor(Math.log10(a / u)) - 1;
      return trimZeros((v / u).toFixed(Math.max(0, d))) + s;
    }
  }
  const d = incr !== undefined && incr > 0 ? Math.max(0, Math.min(8, -Math.floor(Math.log10(incr) + 1e-9))) : Math.max(0, 3 - Math.floor(Math.log10(a)));
  return trimZeros(v.toFixed(d));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
