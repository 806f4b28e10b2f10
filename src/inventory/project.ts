/**
 * Projection of pod specs onto the fields the evaluators read, so the snapshot stays small. Identical
 * projections are interned: 10,000 replicas of one template share one object.
 */
import { createHash } from 'node:crypto';
import { SharedStrings } from '../k8s/strings.js';
import type { ContainerLite, PodSpecLite, PodTemplateLite } from './types.js';

type Json = Record<string, unknown>;

const SECURITY_ANNOTATION =
  /^(container\.apparmor\.security\.beta\.kubernetes\.io\/|seccomp\.security\.alpha\.kubernetes\.io\/pod$|container\.seccomp\.security\.alpha\.kubernetes\.io\/)/;

function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function arr(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [];
}

/** Keep only the host of probe/lifecycle handlers (hostProbesAndHostLifecycle) and their kind. */
function handler(v: unknown): Json | undefined {
  const h = obj(v);
  if (!h) return undefined;
  const out: Json = {};
  for (const key of ['httpGet', 'tcpSocket'] as const) {
    const x = obj(h[key]);
    if (x) out[key] = x.host !== undefined ? { host: x.host } : {};
  }
  if (h.exec) out.exec = {};
  if (h.grpc) out.grpc = {};
  return out;
}

/** A flag whose value may be a credential: `--token`, `--db-password`, `--client-secret`, `--api-key`. */
const CREDENTIAL_FLAG =
  /^(--?[\w.-]*(token|passw(or)?d|secret|credential|api-?key|private-?key)[\w.-]*)(=.*)?$/i;

/**
 * Command-line arguments with the values of credential-like flags replaced by `<redacted>`, both `--flag=value` and
 * `--flag value` (rule 3: no secret value in any output, and the snapshot keeps none).
 */
export function redactArgs(args: readonly unknown[]): string[] {
  const out: string[] = [];
  let redactNext = false;
  for (const a of args) {
    const text = String(a);
    if (redactNext && !text.startsWith('-')) {
      out.push('<redacted>');
      redactNext = false;
      continue;
    }
    const m = CREDENTIAL_FLAG.exec(text);
    redactNext = Boolean(m && m[4] === undefined);
    out.push(m?.[4] !== undefined ? `${m[1]}=<redacted>` : text);
  }
  return out;
}

/** `command` + `args`, credential-like flag values redacted. */
export function containerArgs(c: Json): string[] | undefined {
  const all = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])];
  return all.length === 0 ? undefined : redactArgs(all);
}

function container(c: Json): ContainerLite {
  const out: ContainerLite = { name: String(c.name ?? '') };
  if (typeof c.image === 'string') out.image = c.image;
  const args = containerArgs(c);
  if (args) out.args = args;
  const sc = obj(c.securityContext);
  if (sc) out.securityContext = sc;
  const ports = arr(c.ports);
  if (ports.length) {
    out.ports = ports.map((p) => {
      const q: NonNullable<ContainerLite['ports']>[number] = {};
      if (typeof p.containerPort === 'number') q.containerPort = p.containerPort;
      if (typeof p.hostPort === 'number') q.hostPort = p.hostPort;
      if (typeof p.protocol === 'string') q.protocol = p.protocol;
      if (typeof p.name === 'string') q.name = p.name;
      return q;
    });
  }
  const res = obj(c.resources);
  if (res) {
    const r: NonNullable<ContainerLite['resources']> = {};
    if (obj(res.limits)) r.limits = res.limits as Record<string, string>;
    if (obj(res.requests)) r.requests = res.requests as Record<string, string>;
    out.resources = r;
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const h = handler(c[probe]);
    if (h) out[probe] = h;
  }
  const lc = obj(c.lifecycle);
  if (lc) {
    const l: Json = {};
    const post = handler(lc.postStart);
    const pre = handler(lc.preStop);
    if (post) l.postStart = post;
    if (pre) l.preStop = pre;
    out.lifecycle = l;
  }
  const mounts = arr(c.volumeMounts);
  if (mounts.length) {
    out.volumeMounts = mounts.map((m) => ({
      name: String(m.name ?? ''),
      mountPath: String(m.mountPath ?? ''),
      ...(m.readOnly === true ? { readOnly: true } : {}),
    }));
  }
  return out;
}

/** A volume keeps its name, hostPath, and the key of its source type (restrictedVolumes needs only which). */
function volume(v: Json): PodSpecLite['volumes'] extends Array<infer T> | undefined ? T : never {
  const out: Json & { name: string } = { name: String(v.name ?? '') };
  for (const [key, value] of Object.entries(v)) {
    if (key === 'name') continue;
    if (key === 'hostPath') out.hostPath = value;
    else if (key === 'projected') out.projected = slimProjected(value);
    else out[key] = value === null ? null : {};
  }
  return out;
}

function slimProjected(v: unknown): Json {
  const sources = arr(obj(v)?.sources).map((s) => {
    const o: Json = {};
    for (const key of Object.keys(s)) o[key] = key === 'serviceAccountToken' ? {} : {};
    return o;
  });
  return { sources };
}

/** The ServiceAccount admission plugin's token volume: `kube-api-access-` + 5 random characters, per pod. */
const TOKEN_VOLUME = /^kube-api-access-[a-z0-9]{5}$/;
export const TOKEN_VOLUME_NAME = 'kube-api-access';

/**
 * Give the admission-injected token volume (and its mounts) one fixed name. Its random suffix is the only
 * difference between the pods of one template, and nothing we evaluate reads volume names, so without this no two
 * live pods would intern to the same spec and every replica would be evaluated on its own.
 */
function normalizeTokenVolume(out: PodSpecLite): void {
  const volumes = out.volumes ?? [];
  const tokens = volumes.filter(
    (v) =>
      TOKEN_VOLUME.test(v.name) &&
      arr((v.projected as Json | undefined)?.sources).some((s) => 'serviceAccountToken' in s),
  );
  const token = tokens[0];
  if (tokens.length !== 1 || !token || volumes.some((v) => v.name === TOKEN_VOLUME_NAME)) return;
  const from = token.name;
  token.name = TOKEN_VOLUME_NAME;
  for (const list of [out.initContainers, out.containers, out.ephemeralContainers]) {
    for (const c of list ?? []) {
      for (const m of c.volumeMounts ?? []) if (m.name === from) m.name = TOKEN_VOLUME_NAME;
    }
  }
}

export function projectPodSpec(spec: unknown): PodSpecLite {
  const s = obj(spec) ?? {};
  const out: PodSpecLite = { containers: arr(s.containers).map(container) };
  for (const key of [
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'hostUsers',
    'automountServiceAccountToken',
  ] as const) {
    if (typeof s[key] === 'boolean') out[key] = s[key] as boolean;
  }
  const os = obj(s.os);
  if (os && typeof os.name === 'string') out.os = { name: os.name };
  if (typeof s.runtimeClassName === 'string') out.runtimeClassName = s.runtimeClassName;
  if (typeof s.serviceAccountName === 'string') out.serviceAccountName = s.serviceAccountName;
  else if (typeof s.serviceAccount === 'string') out.serviceAccountName = s.serviceAccount;
  const sc = obj(s.securityContext);
  if (sc) out.securityContext = sc;
  const volumes = arr(s.volumes);
  if (volumes.length) out.volumes = volumes.map(volume);
  const init = arr(s.initContainers);
  if (init.length) out.initContainers = init.map(container);
  const eph = arr(s.ephemeralContainers);
  if (eph.length) out.ephemeralContainers = eph.map(container);
  normalizeTokenVolume(out);
  return out;
}

/** The security annotations (PSS reads them) and `prometheus.io/*` (the scrape convention the netpol planner reads). */
export function securityAnnotations(annotations: unknown): Record<string, string> | undefined {
  const a = obj(annotations);
  if (!a) return undefined;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(a)) {
    if ((SECURITY_ANNOTATION.test(k) || k.startsWith('prometheus.io/')) && typeof v === 'string') {
      out ??= {};
      out[k] = v;
    }
  }
  return out;
}

/** A fixed-size key for a JSON text (the full text would keep ~2 KB per distinct pod alive while listing). */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/**
 * Interns projected templates by content. The spec is interned on its own as well, so pods that differ only in
 * labels (StatefulSet pod names, template hashes) share one spec object and one Pod Security evaluation. Keys are
 * SHA-256 digests of the JSON, not the JSON itself: live pods rarely share a spec byte for byte (each one has its
 * own `kube-api-access-<random>` token volume), so 10,000 pods would otherwise hold ~30 MB of keys.
 */
export class TemplateInterner {
  private readonly seen = new Map<string, PodTemplateLite>();
  private readonly specs = new Map<string, PodTemplateLite['spec']>();
  /** Label and annotation values and pod phases, one string each for the whole snapshot. */
  readonly strings = new SharedStrings();

  intern(template: PodTemplateLite): PodTemplateLite {
    const specKey = digest(JSON.stringify(template.spec));
    let spec = this.specs.get(specKey);
    if (!spec) {
      spec = template.spec;
      this.specs.set(specKey, spec);
    }
    const key = `${specKey}${digest(JSON.stringify(template.metadata))}`;
    const found = this.seen.get(key);
    if (found) return found;
    const interned = { metadata: template.metadata, spec };
    this.seen.set(key, interned);
    return interned;
  }

  get size(): number {
    return this.seen.size;
  }
}
