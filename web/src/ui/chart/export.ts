// Export of a chart as PNG or SVG and of its data as CSV. Both pictures come
// from one SVG drawing of the chart (title, axes, lines or bars, legend); the
// PNG is that SVG rasterised at twice its size.
import { fmtShort } from '../../lib/format';

export interface ExportSeries { id?: string; label: string; color: string; x: number[]; y: (number | null)[] }
export interface ExportBar { id?: string; label: string; color: string; value: number }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const FONT = 'font-family="system-ui, sans-serif"';

/** niceTicks answers about `n` round values covering [lo, hi] and their spacing. */
export function niceTicks(lo: number, hi: number, n = 5): { ticks: number[]; incr: number } {
  if (!(hi > lo)) return { ticks: [lo], incr: 1 };
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const incr = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / incr) * incr; v <= hi + incr * 1e-9; v += incr) ticks.push(Number(v.toPrecision(12)));
  return { ticks, incr };
}

function legend(items: { label: string; color: string }[], x: number, y: number, width: number): { svg: string; height: number } {
  let cx = x, cy = y;
  const parts: string[] = [];
  for (const it of items) {
    const w = 18 + Math.min(220, it.label.length * 6.5) + 14;
    if (cx + w > x + width && cx > x) { cx = x; cy += 16; }
    parts.push(`<rect x="${cx}" y="${cy - 8}" width="10" height="10" rx="2" fill="${it.color}"/><text x="${cx + 14}" y="${cy + 1}" font-size="11" ${FONT} fill="#374151">${esc(it.label)}</text>`);
    cx += w;
  }
  return { svg: parts.join(''), height: cy - y + 16 };
}

/** lineSVG draws series as an SVG line chart; `xFmt` formats x tick labels. */
export function lineSVG(title: string, series: ExportSeries[], opts: { width?: number; height?: number; logY?: boolean; xFmt?: (v: number) => string; xLabel?: string } = {}): string {
  const W = opts.width || 800, H = opts.height || 420;
  const L = 64, R = 16, T = 34;
  const B = 44 + legend(series, L, 0, W - L - R).height;
  const tr = (v: number) => (opts.logY ? Math.log10(v) : v);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of series) for (let i = 0; i < s.x.length; i++) {
    const v = s.y[i];
    if (v === null || (opts.logY && v <= 0)) continue;
    x0 = Math.min(x0, s.x[i]); x1 = Math.max(x1, s.x[i]);
    y0 = Math.min(y0, tr(v)); y1 = Math.max(y1, tr(v));
  }
  if (!Number.isFinite(x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const pw = W - L - R, ph = H - T - B;
  const sx = (v: number) => L + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => T + ph - ((tr(v) - y0) / (y1 - y0)) * ph;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${L}" y="20" font-size="14" font-weight="600" ${FONT} fill="#111827">${esc(title)}</text>`];
  const yt = opts.logY ? niceTicks(y0, y1, 5).ticks.filter((t) => Number.isInteger(t)) : niceTicks(y0, y1, 5).ticks;
  const yIncr = niceTicks(y0, y1, 5).incr;
  for (const t of yt) {
    const v = opts.logY ? 10 ** t : t;
    const y = sy(v);
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#eef0f3"/><text x="${L - 6}" y="${y + 4}" font-size="11" text-anchor="end" ${FONT} fill="#6b7280">${esc(fmtShort(v, opts.logY ? undefined : yIncr))}</text>`);
  }
  const xt = niceTicks(x0, x1, 6);
  for (const t of xt.ticks) {
    const x = sx(t);
    out.push(`<line x1="${x}" x2="${x}" y1="${T}" y2="${T + ph}" stroke="#eef0f3"/><text x="${x}" y="${T + ph + 16}" font-size="11" text-anchor="middle" ${FONT} fill="#6b7280">${esc(opts.xFmt ? opts.xFmt(t) : fmtShort(t, xt.incr))}</text>`);
  }
  if (opts.xLabel) out.push(`<text x="${L + pw / 2}" y="${T + ph + 32}" font-size="11" text-anchor="middle" ${FONT} fill="#6b7280">${esc(opts.xLabel)}</text>`);
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#d1d5db"/>`);
  for (const s of series) {
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const v = s.y[i];
      if (v === null || (opts.logY && v <= 0)) continue;
      pts.push(`${sx(s.x[i]).toFixed(1)},${sy(v).toFixed(1)}`);
    }
    out.push(`<polyline class="series" data-label="${esc(s.label)}" fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    if (s.x.length === 1 && s.y[0] !== null) out.push(`<circle cx="${sx(s.x[0])}" cy="${sy(s.y[0] as number)}" r="3" fill="${s.color}"/>`);
  }
  out.push(legend(series, L, T + ph + 50, W - L - R).svg);
  out.push('</svg>');
  return out.join('\n');
}

/** barSVG draws one horizontal bar per run. */
export function barSVG(title: string, bars: ExportBar[], opts: { width?: number } = {}): string {
  const W = opts.width || 800;
  const rowH = 24, T = 36, L = Math.min(260, 16 + Math.max(...bars.map((b) => b.label.length), 4) * 6.5), R = 80;
  const H = T + bars.length * rowH + 16;
  const lo = Math.min(0, ...bars.map((b) => b.value)), hi = Math.max(0, ...bars.map((b) => b.value));
  const span = hi - lo || 1;
  const sx = (v: number) => L + ((v - lo) / span) * (W - L - R);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`, `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="16" y="22" font-size="14" font-weight="600" ${FONT} fill="#111827">${esc(title)}</text>`];
  bars.forEach((b, i) => {
    const y = T + i * rowH;
    const a = sx(Math.min(0, b.value)), z = sx(Math.max(0, b.value));
    out.push(`<text x="${L - 8}" y="${y + 15}" font-size="11" text-anchor="end" ${FONT} fill="#374151">${esc(b.label)}</text>`,
      `<rect class="bar" x="${a}" y="${y + 4}" width="${Math.max(1, z - a)}" height="${rowH - 8}" fill="${b.color}"/>`,
      `<text x="${z + 6}" y="${y + 15}" font-size="11" ${FONT} fill="#111827">${esc(fmtShort(b.value))}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** svgToPNG rasterises an SVG string at `scale` times its size. */
export function svgToPNG(svg: string, scale = 2): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    const m = /width="(\d+)" height="(\d+)"/.exec(svg);
    const w = Number(m?.[1] || 800), h = Number(m?.[2] || 400);
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = w * scale;
      c.height = h * scale;
      const ctx = c.getContext('2d')!;
      ctx.scale(scale, scale);
      ctx.drawImage(img, 0, 0);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png');
    };
    img.onerror = () => reject(new Error('SVG could not be drawn'));
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  });
}

/** csvCell quotes a value for CSV when it needs it. */
export function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** toCSV joins a header and rows into CSV text. */
export function toCSV(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** download saves text or a blob as a file. */
export function download(name: string, data: Blob | string, type = 'text/plain') {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** fileName makes a metric key safe as a file name. */
export function fileName(s: string): string {
  return s.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'chart';
}
