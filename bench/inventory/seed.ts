/**
 * Seeding for the inventory benchmark: N namespaces with M bare pods each, created directly through the API
 * (no controllers, so seeding 10,000 pods takes seconds, not minutes). The pods are realistic in size and shape:
 * 1–3 containers, init containers, pod and container securityContexts, env (literal and valueFrom), probes,
 * resources, configMap/secret/emptyDir/PVC/hostPath volumes, a ServiceAccount token (the ServiceAccount
 * admission plugin adds a `kube-api-access-<random>` projected volume to each pod, so no two pod specs are
 * byte-identical, as in a real cluster), labels, annotations and managedFields.
 */
import type { LiveCluster } from '../../src/cluster/live.js';
import type { KubeObject } from '../../src/k8s/types.js';

export const BENCH_LABEL = 'kube-harden.bench/inventory';
const FIELD_MANAGER = 'kube-harden-bench';

export interface SeedOptions {
  namespaces: number;
  podsPerNamespace: number;
  /** Requests in flight. */
  concurrency: number;
  log: (line: string) => void;
}

export interface SeedResult {
  namespaces: string[];
  created: number;
  alreadyThere: number;
  durationMs: number;
}

export function namespaceName(i: number): string {
  return `bench-${String(i).padStart(3, '0')}`;
}

type J = Record<string, unknown>;

const env = (app: string, n: number): J[] => {
  const out: J[] = [
    { name: 'APP_NAME', value: app },
    { name: 'LOG_LEVEL', value: 'info' },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    {
      name: 'DB_PASSWORD',
      valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'password', optional: true } },
    },
  ];
  for (let i = 0; i < n; i++) out.push({ name: `FEATURE_FLAG_${i}`, value: i % 2 === 0 ? 'true' : 'false' });
  return out;
};

const resources = (limits: boolean): J => ({
  requests: { cpu: '100m', memory: '128Mi' },
  ...(limits ? { limits: { cpu: '500m', memory: '256Mi' } } : {}),
});

const restrictedSc: J = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

const probe = (port: number, path = '/healthz'): J => ({
  httpGet: { path, port },
  initialDelaySeconds: 5,
  periodSeconds: 10,
});

/** Five archetypes, from fully hardened to "it works, don't touch it". */
function podSpec(archetype: number, app: string): J {
  switch (archetype) {
    case 0: // hardened web service with a sidecar
      return {
        serviceAccountName: 'default',
        securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'app',
            image: `registry.example.com:5000/${app}/web:1.4.2`,
            ports: [{ name: 'http', containerPort: 8080 }],
            env: env(app, 6),
            resources: resources(true),
            securityContext: restrictedSc,
            livenessProbe: probe(8080),
            readinessProbe: probe(8080, '/ready'),
            volumeMounts: [
              { name: 'config', mountPath: '/etc/app', readOnly: true },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          },
          {
            name: 'proxy',
            image: 'docker.io/envoyproxy/envoy:v1.31.2',
            ports: [{ name: 'admin', containerPort: 9901 }],
            resources: resources(true),
            securityContext: restrictedSc,
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: `${app}-config` } },
          { name: 'tmp', emptyDir: {} },
        ],
      };
    case 1: // legacy worker: no securityContext, no limits, :latest
      return {
        containers: [
          {
            name: 'worker',
            image: `ghcr.io/acme/${app}-worker:latest`,
            args: ['--queue', app, '--concurrency', '4'],
            env: env(app, 10),
            resources: resources(false),
            volumeMounts: [{ name: 'secrets', mountPath: '/var/run/secrets/app', readOnly: true }],
          },
        ],
        volumes: [{ name: 'secrets', secret: { secretName: `${app}-credentials` } }],
      };
    case 2: // database-like: init container as root, PVC
      return {
        securityContext: { fsGroup: 999 },
        initContainers: [
          {
            name: 'init-permissions',
            image: 'docker.io/library/busybox:1.36',
            command: ['sh', '-c', 'chown -R 999:999 /data'],
            securityContext: { runAsUser: 0 },
            resources: resources(true),
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
        containers: [
          {
            name: 'db',
            image: 'docker.io/library/postgres:16.4',
            ports: [{ name: 'pg', containerPort: 5432 }],
            env: env(app, 3),
            resources: resources(true),
            securityContext: { runAsUser: 999, runAsNonRoot: true, allowPrivilegeEscalation: false },
            readinessProbe: { exec: { command: ['pg_isready'] }, periodSeconds: 5 },
            volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }],
          },
        ],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `${app}-data` } }],
      };
    case 3: // node agent: host namespaces and hostPath
      return {
        hostNetwork: true,
        hostPID: true,
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'agent',
            image: 'quay.io/prometheus/node-exporter:v1.8.2',
            args: ['--path.procfs=/host/proc', '--path.sysfs=/host/sys'],
            ports: [{ name: 'metrics', containerPort: 9100, hostPort: 9100 }],
            resources: resources(true),
            securityContext: { runAsNonRoot: true, runAsUser: 65534, readOnlyRootFilesystem: true },
            volumeMounts: [
              { name: 'proc', mountPath: '/host/proc', readOnly: true },
              { name: 'sys', mountPath: '/host/sys', readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: 'proc', hostPath: { path: '/proc' } },
          { name: 'sys', hostPath: { path: '/sys' } },
        ],
      };
    default: // batch job with three containers, partly hardened
      return {
        restartPolicy: 'OnFailure',
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: ['extract', 'transform', 'load'].map((step, i) => ({
          name: step,
          image: `registry.example.com:5000/etl/${step}:2.0.${i}`,
          command: ['/bin/etl', step],
          env: env(app, 2),
          resources: resources(i !== 1),
          securityContext: i === 2 ? restrictedSc : { runAsUser: 1000 },
        })),
      };
  }
}

export function benchPod(namespace: string, index: number): KubeObject {
  const archetype = index % 5;
  const app = `app-${index % 17}`;
  const hash = ((index * 2654435761) >>> 0).toString(16).padStart(8, '0').slice(0, 8);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app}-${hash}-${String(index).padStart(4, '0')}`,
      namespace,
      labels: {
        [BENCH_LABEL]: 'true',
        app,
        'app.kubernetes.io/name': app,
        'app.kubernetes.io/part-of': namespace,
        'pod-template-hash': hash,
        tier: ['web', 'worker', 'db', 'agent', 'batch'][archetype] as string,
      },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
        'kubectl.kubernetes.io/default-container': archetype === 4 ? 'extract' : 'app',
      },
    },
    spec: podSpec(archetype, app),
  };
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function countPods(cluster: LiveCluster, namespace: string): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const page of cluster.list({ apiVersion: 'v1', kind: 'Pod' }, { namespace, limit: 500 })) {
    for (const p of page.items) names.add(p.metadata.name);
  }
  return names;
}

/**
 * Create the namespaces and pods (idempotent: existing pods are left alone, so a reused cluster is topped up).
 * Waits for each namespace's `default` ServiceAccount (the ServiceAccount admission plugin needs it).
 */
export async function seed(cluster: LiveCluster, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const namespaces = Array.from({ length: options.namespaces }, (_, i) => namespaceName(i));
  await pool(namespaces, options.concurrency, async (name) => {
    await cluster.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { [BENCH_LABEL]: 'true' } },
      },
      { fieldManager: FIELD_MANAGER },
    );
  });
  const deadline = Date.now() + 120_000;
  for (const name of namespaces) {
    for (;;) {
      const { value } = await cluster.get({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        namespace: name,
        name: 'default',
      });
      if (value) break;
      if (Date.now() > deadline) throw new Error(`ServiceAccount ${name}/default did not appear`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const todo: KubeObject[] = [];
  let alreadyThere = 0;
  await pool(namespaces, 4, async (ns) => {
    const existing = await countPods(cluster, ns);
    const base = namespaces.indexOf(ns) * options.podsPerNamespace;
    for (let i = 0; i < options.podsPerNamespace; i++) {
      const pod = benchPod(ns, base + i);
      if (existing.has(pod.metadata.name)) alreadyThere++;
      else todo.push(pod);
    }
  });
  let done = 0;
  let lastLog = performance.now();
  await pool(todo, options.concurrency, async (pod) => {
    await cluster.apply(pod, { fieldManager: FIELD_MANAGER });
    done++;
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      options.log(`seeding: ${done}/${todo.length} pods`);
    }
  });
  return { namespaces, created: todo.length, alreadyThere, durationMs: performance.now() - started };
}
