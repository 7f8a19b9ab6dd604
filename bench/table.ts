/** Plain-text tables for the benchmark report, and small number helpers shared by the benches. */

export type Cell = string | number;

/** Prints a titled table; columns are padded to their widest cell, numbers aligned right. */
export function printTable(title: string, header: string[], rows: Cell[][], notes: string[] = [], write: (line: string) => void = (l) => console.log(l)): void {
  const text = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? String(cell) : cell)));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] ?? '').length)));
  const format = (cells: string[], numeric: boolean[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  write('');
  write(title);
  write(format(header, header.map(() => false)));
  write(widths.map((w) => '-'.repeat(w)).join('  '));
  for (let r = 0; r < text.length; r++) write(format(text[r]!, rows[r]!.map((c) => typeof c === 'number')));
  for (const note of notes) write(note);
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function mb(bytes: number): number {
  return round(bytes / 1_000_000, 1);
}
