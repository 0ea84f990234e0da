/** Medians, spreads and the one-line report of each case. */

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** The median (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median with min and max, the values kept unrounded. */
export type Spread = { median: number; min: number; max: number; values: number[] };

export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values };
}

/** Rounded for printing only: decisions use the exact values. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const fmtSpread = (s: Spread, digits = 0) =>
  s.values.length > 1
    ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`
    : fmt(s.median, digits);

export type CaseResult = {
  case: string;
  figure: Spread;
  unit: string;
  baseline?: Spread;
  /** Per run: figure / baseline of that run; the median decides. */
  ratio?: Spread;
  /** Other figures, each a spread over the runs (with its unit in the key). */
  extra: Record<string, Spread>;
  /** Counts and notes that describe the case (not figures). */
  info?: Record<string, number | string>;
  target: string;
  met: boolean | null;
};

export function reportLine(r: CaseResult): string {
  const digits = r.unit === 'ms' ? 1 : 0;
  const base = r.baseline ? ` · baseline ${fmtSpread(r.baseline)} ${r.unit}` : '';
  const ratio = r.ratio ? ` · ratio ${fmtSpread(r.ratio, 2)}` : '';
  const extra = Object.entries(r.extra)
    .map(([k, v]) => ` · ${k} ${fmtSpread(v, Math.abs(v.median) < 10 ? 1 : 0)}`)
    .join('');
  const status = r.met === null ? 'INFO' : r.met ? 'MET ' : 'MISS';
  return `${status} ${r.case.padEnd(18)} ${fmtSpread(r.figure, digits)} ${r.unit}${base}${ratio}${extra} (target ${r.target})`;
}
