/** Phase 6 test support: control-plane facts from the kubeadm-shaped fixtures, and empty network facts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  apiServerInstance,
  type ControlPlaneFacts,
  parseClusterConfiguration,
} from '../../src/inventory/control-plane-facts.js';
import { emptyNetworkFacts } from '../../src/inventory/network-facts.js';
import type { NetworkFacts } from '../../src/inventory/types.js';
import { parseManifests } from '../../src/k8s/yaml.js';

export const CONTROL_PLANE_FIXTURES = new URL('../fixtures/control-plane/', import.meta.url).pathname;

export function fixtureFacts(set: 'kubeadm-default' | 'kubeadm-hardened'): ControlPlaneFacts {
  const pod = parseManifests(
    readFileSync(join(CONTROL_PLANE_FIXTURES, set, 'kube-apiserver.yaml')),
    'pod',
  )[0];
  const cm = parseManifests(readFileSync(join(CONTROL_PLANE_FIXTURES, set, 'kubeadm-config.yaml')), 'cm')[0];
  if (!pod || !cm) throw new Error('fixture missing');
  const text = (cm as unknown as { data: { ClusterConfiguration: string } }).data.ClusterConfiguration;
  const kubeadm = parseClusterConfiguration(text);
  return {
    apiServers: [apiServerInstance(pod)],
    ...(kubeadm ? { kubeadm } : {}),
    nodes: [],
    loadBalancers: [],
  };
}

/** Network facts with the DaemonSets given (so log shippers can be found) and nothing else. */
export function networkWith(daemonSets: NetworkFacts['daemonSets'] = []): NetworkFacts {
  return { ...emptyNetworkFacts(), daemonSets };
}
