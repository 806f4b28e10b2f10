/**
 * Kubernetes resource quantities (`resource.Quantity`), as far as sizing needs them: `500m`, `1.5`, `256Mi`,
 * `1G`, `2e3`. CPU in millicores, memory in bytes.
 */
const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The quantity's value (cores or bytes); undefined when it is not one. */
export function parseQuantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([+]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return Number(`${m[1]}${m[2]}`);
  const factor = SUFFIX[m[3] ?? ''];
  return factor === undefined || !Number.isFinite(base) ? undefined : base * factor;
}

/** Millicores, rounded up: `1250m`. */
export function formatCpu(cores: number): string {
  return `${Math.max(1, Math.ceil(cores * 1000 - 1e-6))}m`;
}

/** Mebibytes, rounded up: `384Mi`. */
export function formatMemory(bytes: number): string {
  return `${Math.max(1, Math.ceil(bytes / 2 ** 20 - 1e-9))}Mi`;
}
