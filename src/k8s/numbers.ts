/**
 * `n.toLocaleString('en-US')` for a count (1,234,567), without it: the first call loads the ICU number formats,
 * 10–20 ms of a short run (a progress line, an error message). Other numbers go to `toLocaleString`.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}
