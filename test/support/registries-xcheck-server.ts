/**
 * A stand-in for the API server's answer to registries-enforce's dry-run probes, for unit tests of the step's
 * gate logic only (the real server answers in test/integration/registries-xcheck.test.ts): the policy in place
 * (`entries`, acting as `action`) judged with kube-harden's own evaluator, worded like the API server's Warning.
 */
import type { ClusterReader } from '../../src/cluster/types.js';
import type { KubeObject } from '../../src/k8s/types.js';
import { imageVerdict, POLICY_NAME } from '../../src/policy/registries/index.js';
import { registryBinding, registryPolicy } from '../../steps/kit/registries.js';

type Container = { name: string; image?: string };
type Spec = { containers: Container[]; initContainers?: Container[] };

export interface FakePolicyServer {
  reader: ClusterReader;
  /** The probes received. */
  probes: KubeObject[];
}

export function fakePolicyServer(
  entries: string[] | undefined,
  action: 'Warn' | 'Deny' | undefined,
  options: { selector?: Record<string, unknown>; override?: (image: string) => boolean | undefined } = {},
): FakePolicyServer {
  const probes: KubeObject[] = [];
  const objects: Record<string, KubeObject | undefined> = {
    ValidatingAdmissionPolicy: entries ? registryPolicy(entries) : undefined,
    ValidatingAdmissionPolicyBinding: action ? registryBinding(action, options.selector ?? {}) : undefined,
  };
  const reader = {
    capabilities: { dryRun: true, reviews: true },
    get: async (ref: { kind: string }) => ({ value: objects[ref.kind], warnings: [] }),
    dryRunApply: async (object: KubeObject) => {
      probes.push(object);
      const spec = (object as unknown as { spec: { template: { spec: Spec } } }).spec.template.spec;
      const all = [
        ...spec.containers.map((c) => ['container', c]),
        ...(spec.initContainers ?? []).map((c) => ['initContainer', c]),
      ] as Array<[string, Container]>;
      const bad = all.filter(([, c]) => {
        const o = options.override?.(c.image ?? '');
        return o === undefined ? !imageVerdict(c.image ?? '', entries ?? []).allowed : !o;
      });
      const warnings =
        action && bad.length
          ? [
              `Validation failed for ValidatingAdmissionPolicy '${POLICY_NAME}' with binding '${POLICY_NAME}': images from registries that are not allowed: ${bad
                .map(([k, c]) => `${k} ${c.name} uses ${c.image}`)
                .join(', ')}; allowed: ${(entries ?? []).join(', ')}`,
            ]
          : [];
      return { object, warnings };
    },
  } as unknown as ClusterReader;
  return { reader, probes };
}
