// One colour per run, the same on every page.
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d', '#7c3aed', '#ca8a04', '#0f766e', '#be123c', '#4f46e5', '#b45309', '#15803d', '#a21caf'];

export function colorFor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length];
}
