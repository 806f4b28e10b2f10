import { describe, expect, test } from 'vitest';
import { detectCni } from '../../../../src/policy/netpol/cni.js';
import type { CniConfigHints, DaemonSetLite } from '../../../../src/policy/netpol/types.js';

const ds = (
  namespace: string,
  name: string,
  containers: Array<{ name: string; image: string; args?: string[] }>,
): DaemonSetLite => ({ namespace, name, labels: {}, containers });

// Each row: what runs (as the upstream manifests named in reference phases-3-6 §1 deploy it) → the verdict.
const rows: Array<[string, DaemonSetLite[], CniConfigHints, string, boolean | 'unknown']> = [
  [
    'Calico manifest',
    [ds('kube-system', 'calico-node', [{ name: 'calico-node', image: 'docker.io/calico/node:v3.28.1' }])],
    {},
    'calico',
    true,
  ],
  [
    'Calico operator (calico-system)',
    [ds('calico-system', 'calico-node', [{ name: 'calico-node', image: 'quay.io/calico/node:v3.30.0' }])],
    {},
    'calico',
    true,
  ],
  [
    'Canal',
    [
      ds('kube-system', 'canal', [
        { name: 'calico-node', image: 'calico/node:v3.28.1' },
        { name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.25.5' },
      ]),
    ],
    {},
    'canal',
    true,
  ],
  [
    'Cilium',
    [
      ds('kube-system', 'cilium', [
        { name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.1@sha256:abc' },
      ]),
    ],
    {},
    'cilium',
    true,
  ],
  [
    'Cilium with enable-policy: never',
    [ds('kube-system', 'cilium', [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.1' }])],
    { ciliumEnablePolicy: 'never' },
    'cilium',
    false,
  ],
  [
    'GKE Dataplane V2',
    [ds('kube-system', 'anetd', [{ name: 'cilium-agent', image: 'gke.gcr.io/cilium/cilium:v1.14' }])],
    {},
    'gke-dataplane-v2',
    true,
  ],
  [
    'Antrea',
    [
      ds('kube-system', 'antrea-agent', [
        { name: 'antrea-agent', image: 'antrea/antrea-agent-ubuntu:v2.1.0' },
        { name: 'antrea-ovs', image: 'antrea/antrea-agent-ubuntu:v2.1.0' },
      ]),
    ],
    {},
    'antrea',
    true,
  ],
  [
    'Weave with weave-npc',
    [
      ds('kube-system', 'weave-net', [
        { name: 'weave', image: 'weaveworks/weave-kube:2.8.1' },
        { name: 'weave-npc', image: 'weaveworks/weave-npc:2.8.1' },
      ]),
    ],
    {},
    'weave',
    true,
  ],
  [
    'Weave without weave-npc',
    [ds('kube-system', 'weave-net', [{ name: 'weave', image: 'weaveworks/weave-kube:2.8.1' }])],
    {},
    'weave',
    false,
  ],
  [
    'kube-router',
    [
      ds('kube-system', 'kube-router', [
        {
          name: 'kube-router',
          image: 'docker.io/cloudnativelabs/kube-router',
          args: ['--run-router=true', '--run-firewall=true'],
        },
      ]),
    ],
    {},
    'kube-router',
    true,
  ],
  [
    'kube-router --run-firewall=false',
    [
      ds('kube-system', 'kube-router', [
        { name: 'kube-router', image: 'cloudnativelabs/kube-router:v2.2.0', args: ['--run-firewall=false'] },
      ]),
    ],
    {},
    'kube-router',
    false,
  ],
  [
    'AWS VPC CNI without the agent',
    [
      ds('kube-system', 'aws-node', [
        { name: 'aws-node', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3' },
      ]),
    ],
    {},
    'aws-vpc-cni',
    false,
  ],
  [
    'AWS VPC CNI, agent present but off',
    [
      ds('kube-system', 'aws-node', [
        { name: 'aws-node', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3' },
        {
          name: 'aws-eks-nodeagent',
          image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.2',
          args: ['--enable-network-policy=false'],
        },
      ]),
    ],
    {},
    'aws-vpc-cni',
    false,
  ],
  [
    'AWS VPC CNI with the agent on (container named differently)',
    [
      ds('kube-system', 'aws-node', [
        { name: 'aws-node', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3' },
        {
          name: 'aws-network-policy-agent',
          image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.2',
          args: ['--enable-network-policy=true'],
        },
      ]),
    ],
    {},
    'aws-vpc-cni',
    true,
  ],
  [
    'Azure NPM',
    [
      ds('kube-system', 'azure-npm', [
        { name: 'azure-npm', image: 'mcr.microsoft.com/containernetworking/azure-npm:v1.5.4' },
      ]),
    ],
    {},
    'azure-npm',
    true,
  ],
  [
    'flannel alone',
    [
      ds('kube-flannel', 'kube-flannel-ds', [
        { name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.25.5' },
      ]),
    ],
    {},
    'flannel',
    false,
  ],
  [
    'flannel with kube-network-policies',
    [
      ds('kube-flannel', 'kube-flannel-ds', [
        { name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.26.0' },
        { name: 'kube-network-policies', image: 'registry.k8s.io/networking/kube-network-policies:v0.6.0' },
      ]),
    ],
    {},
    'flannel+kube-network-policies',
    true,
  ],
  [
    'kindnet (kind v0.23)',
    [
      ds('kube-system', 'kindnet', [
        { name: 'kindnet-cni', image: 'docker.io/kindest/kindnetd:v20240513-cd2ac642' },
      ]),
    ],
    {},
    'kindnet',
    false,
  ],
  [
    'kindnet (kind v0.24+)',
    [
      ds('kube-system', 'kindnet', [
        { name: 'kindnet-cni', image: 'docker.io/kindest/kindnetd:v20241212-9f82dd49' },
      ]),
    ],
    {},
    'kindnet',
    true,
  ],
  [
    'kindnet, unknown tag',
    [ds('kube-system', 'kindnet', [{ name: 'kindnet-cni', image: 'docker.io/kindest/kindnetd:latest' }])],
    {},
    'kindnet',
    'unknown',
  ],
  [
    'standalone kindnet v1.3',
    [ds('kube-system', 'kindnet', [{ name: 'kindnet-cni', image: 'ghcr.io/aojea/kindnetd:v1.3.0' }])],
    {},
    'kindnet',
    true,
  ],
  [
    'chained: AWS VPC CNI (no agent) + Calico for policy',
    [
      ds('kube-system', 'aws-node', [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.18.3' }]),
      ds('kube-system', 'calico-node', [{ name: 'calico-node', image: 'quay.io/calico/node:v3.28.1' }]),
    ],
    {},
    'aws-vpc-cni+calico',
    true,
  ],
  ['k3s', [], { serverGitVersion: 'v1.31.2+k3s1' }, 'k3s', true],
  ['k3s --disable-network-policy', [], { k3sNodeArgs: ['server', '--disable-network-policy'] }, 'k3s', false],
  [
    'nothing known (kubenet?)',
    [ds('kube-system', 'kube-proxy', [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.31.0' }])],
    { nodesHavePodCidr: true },
    'unknown',
    'unknown',
  ],
];

describe('CNI detection from what runs', () => {
  test.each(rows)('%s', (_, daemonSets, hints, cni, enforces) => {
    const v = detectCni(daemonSets, hints);
    expect(v.cni).toBe(cni);
    expect(v.enforcesNetworkPolicy).toBe(enforces);
    expect(v.evidence.length).toBeGreaterThan(0);
  });

  test('the evidence names the DaemonSet and the image', () => {
    const v = detectCni(rows[0]![1]);
    expect(v.evidence).toEqual([
      'kube-system/DaemonSet calico-node: container calico-node (docker.io/calico/node:v3.28.1)',
    ]);
  });

  test('DaemonSets that could not be listed: unknown, and says so', () => {
    expect(detectCni([], { daemonSetsUnreadable: true })).toMatchObject({
      cni: 'unknown',
      enforcesNetworkPolicy: 'unknown',
      evidence: ['DaemonSets could not be listed cluster-wide'],
    });
  });
});
