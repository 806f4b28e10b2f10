/**
 * Phase 6 (issue 14), pure parts: kube-apiserver flags from kubeadm-shaped static pod manifests and
 * ClusterConfiguration (test/fixtures/control-plane/), platform detection, exposure, the audit policy tiers (the
 * levels they promise and the check that none logs a secret value), and the EncryptionConfiguration reader.
 */
import { describe, expect, it } from 'vitest';
import {
  kubeadmExtraArgs,
  nodeHint,
  parseClusterConfiguration,
} from '../../../src/inventory/control-plane-facts.js';
import type { Snapshot } from '../../../src/inventory/types.js';
import { parseYamlDocuments } from '../../../src/k8s/yaml.js';
import {
  AUDIT_TIERS,
  evaluateControlPlane,
  isPublicAddress,
  KEY_PLACEHOLDER,
  levelFor,
  omitsRequestReceived,
  PROMISED_REQUESTS,
  parseFlags,
  readEncryptionConfiguration,
  secretLeaks,
  TIER_LEVELS,
} from '../../../src/policy/control-plane/index.js';
import { auditPolicy } from '../../../steps/audit-logging.js';
import { renderYamlTemplate } from '../../../steps/kit/templates.js';
import { encryptionConfig } from '../../../steps/secrets-encryption.js';
import { snapshot } from '../../fixtures/snapshots/builder.js';
import { fixtureFacts, networkWith } from '../../support/control-plane.js';

const snap = (parts: Partial<Snapshot>): Snapshot => snapshot({ network: networkWith(), ...parts });

describe('kube-apiserver flags', () => {
  it('parses --a=b, --a b and bare --a, skipping the binary; the last occurrence wins', () => {
    const f = parseFlags(['kube-apiserver', '--x=1', '--y', '2', '--z', '--w=', '--x=3']);
    expect(Object.fromEntries(f)).toEqual({ x: '3', y: '2', z: 'true', w: '' });
  });

  it('reads kubeadm extraArgs in both shapes (v1beta3 map, v1beta4 list)', () => {
    expect(kubeadmExtraArgs({ 'audit-log-maxage': 30, profiling: 'false' })).toEqual({
      'audit-log-maxage': '30',
      profiling: 'false',
    });
    expect(kubeadmExtraArgs([{ name: 'audit-policy-file', value: '/p' }, { value: 'no name' }])).toEqual({
      'audit-policy-file': '/p',
    });
    expect(parseClusterConfiguration(': not yaml: [')).toBeUndefined();
  });

  it('a default kubeadm control plane: audit off, encryption off, anonymous auth and profiling on, public endpoint', () => {
    const facts = fixtureFacts('kubeadm-default');
    expect(facts.apiServers[0]?.name).toBe('kube-apiserver-cp-1');
    expect(facts.apiServers[0]?.node).toBe('cp-1');
    expect(facts.kubeadm?.apiVersion).toBe('kubeadm.k8s.io/v1beta4');
    expect(facts.kubeadm?.extraArgs).toEqual({ 'authorization-mode': 'Node,RBAC' });
    const v = evaluateControlPlane(snap({ controlPlaneFacts: facts }));
    expect(v.platform).toBe('kubeadm');
    expect(v.visible).toBe(true);
    expect(v.audit.state).toBe('off');
    expect(v.audit.off).toEqual([
      {
        instance: 'kube-apiserver-cp-1',
        missing: ['--audit-policy-file', '--audit-log-path or --audit-webhook-config-file'],
      },
    ]);
    expect(v.encryption.state).toBe('off');
    expect(v.anonymousAuth).toBe('enabled');
    expect(v.profiling).toBe('enabled');
    expect(v.exposures.filter((e) => e.public === true).map((e) => e.where)).toEqual([
      '--advertise-address of kube-apiserver-cp-1',
      'kubeadm controlPlaneEndpoint',
    ]);
  });

  it('a hardened kubeadm control plane: everything on, shipped by a Fluent Bit DaemonSet, nothing public', () => {
    const facts = fixtureFacts('kubeadm-hardened');
    expect(facts.kubeadm?.apiVersion).toBe('kubeadm.k8s.io/v1beta3');
    expect(facts.kubeadm?.extraArgs['audit-policy-file']).toBe('/etc/kubernetes/audit-policy.yaml');
    expect(facts.kubeadm?.extraVolumes.map((v) => v.name)).toEqual([
      'audit-policy',
      'audit-logs',
      'encryption-config',
    ]);
    const shipper = {
      namespace: 'kube-system',
      name: 'fluent-bit',
      labels: {},
      containers: [{ name: 'fb', image: 'cr.fluentbit.io/fluent/fluent-bit:3.2.2' }],
    };
    const v = evaluateControlPlane(
      snap({
        controlPlaneFacts: facts,
        network: networkWith([shipper]),
        serverVersion: { major: 1, minor: 31, gitVersion: 'v1.31.4' },
      }),
    );
    expect(v.audit).toMatchObject({
      state: 'on',
      policyFile: '/etc/kubernetes/audit-policy.yaml',
      logPath: '/var/log/kubernetes/audit/audit.log',
      shipping: { state: 'shipper', shipper: 'kube-system/fluent-bit' },
      unboundedRotation: false,
      notes: [],
    });
    expect(v.encryption).toMatchObject({
      state: 'on',
      configFile: '/etc/kubernetes/enc/encryption-config.yaml',
      automaticReload: true,
    });
    expect(v.anonymousAuth).toBe('disabled');
    expect(v.profiling).toBe('disabled');
    expect(v.exposures.some((e) => e.public === true)).toBe(false);
  });

  it('--bind-address: a public address it listens on is an exposure; all interfaces (0.0.0.0, ::) is not an address', () => {
    const hardened = fixtureFacts('kubeadm-hardened');
    const withBind = (address: string) => ({
      ...hardened,
      apiServers: hardened.apiServers.map((a) => ({
        ...a,
        flags: [...a.flags, `--bind-address=${address}`],
      })),
    });
    const publicOnes = (address: string) =>
      evaluateControlPlane(snap({ controlPlaneFacts: withBind(address) }))
        .exposures.filter((e) => e.public === true)
        .map((e) => `${e.where} ${e.address}`);
    expect(publicOnes('203.0.113.10')).toEqual([
      `--bind-address of ${hardened.apiServers[0]?.name} 203.0.113.10`,
    ]);
    expect(publicOnes('0.0.0.0')).toEqual([]);
    expect(publicOnes('10.0.0.5')).toEqual([]);
  });

  it('a static pod with the flags but a ClusterConfiguration without them: a note that kubeadm upgrade drops them', () => {
    const hardened = fixtureFacts('kubeadm-hardened');
    const facts = { ...hardened, kubeadm: { ...fixtureFacts('kubeadm-default').kubeadm!, extraArgs: {} } };
    const v = evaluateControlPlane(snap({ controlPlaneFacts: facts }));
    expect(v.audit.notes.join(' ')).toContain('kubeadm upgrade');
  });

  it('no log shipper and no webhook: not shipped; old servers without rotation flags keep rotated files forever', () => {
    const facts = fixtureFacts('kubeadm-hardened');
    const pod = facts.apiServers[0]!;
    const noRotation = { ...pod, flags: pod.flags.filter((f) => !f.startsWith('--audit-log-max')) };
    const v = evaluateControlPlane(
      snap({
        controlPlaneFacts: { ...facts, apiServers: [noRotation] },
        serverVersion: { major: 1, minor: 35, gitVersion: 'v1.35.0' },
      }),
    );
    expect(v.audit.shipping.state).toBe('none');
    expect(v.audit.unboundedRotation).toBe(true);
    const v36 = evaluateControlPlane(
      snap({
        controlPlaneFacts: { ...facts, apiServers: [noRotation] },
        serverVersion: { major: 1, minor: 36, gitVersion: 'v1.36.3' },
      }),
    );
    expect(v36.audit.unboundedRotation).toBe(false);
  });

  it('two instances, one without the flags: off, naming that one', () => {
    const on = fixtureFacts('kubeadm-hardened').apiServers[0]!;
    const off = { ...fixtureFacts('kubeadm-default').apiServers[0]!, name: 'kube-apiserver-cp-2' };
    const v = evaluateControlPlane(
      snap({ controlPlaneFacts: { apiServers: [on, off], nodes: [], loadBalancers: [] } }),
    );
    expect(v.audit.state).toBe('off');
    expect(v.audit.off.map((o) => o.instance)).toEqual(['kube-apiserver-cp-2']);
    expect(v.encryption.off).toEqual(['kube-apiserver-cp-2']);
  });
});

describe('node hints', () => {
  it('keep the provider ID and only the labels that name a platform', () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'aks-pool-0',
        labels: {
          'kubernetes.azure.com/cluster': 'MC_rg',
          'kubernetes.io/hostname': 'aks-pool-0',
          team: 'x',
        },
      },
      spec: { providerID: 'azure:///subscriptions/s/vm-0' },
    };
    expect(nodeHint(node)).toEqual({
      name: 'aks-pool-0',
      providerID: 'azure:///subscriptions/s/vm-0',
      labels: { 'kubernetes.azure.com/cluster': 'MC_rg' },
    });
  });
});

describe('when nothing can be seen: unknown, never off', () => {
  it('no static pod, no kubeadm-config (the test control plane, a hand-run API server): unknown', () => {
    const v = evaluateControlPlane(
      snap({
        controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] },
        serverVersion: { major: 1, minor: 36, gitVersion: 'v1.36.3' },
      }),
    );
    expect(v.platform).toBe('unknown');
    expect(v.visible).toBe(false);
    expect(v.audit.state).toBe('unknown');
    expect(v.audit.off).toEqual([]);
    expect(v.encryption.state).toBe('unknown');
    expect(v.anonymousAuth).toBe('unknown');
    expect(v.profiling).toBe('unknown');
  });

  it('a snapshot without control-plane facts (kube-system unreadable or an old snapshot): unknown', () => {
    expect(evaluateControlPlane(snapshot({})).audit.state).toBe('unknown');
    const v = evaluateControlPlane(
      snap({
        controlPlaneFacts: { apiServers: [], apiServersUnreadable: true, nodes: [], loadBalancers: [] },
      }),
    );
    expect(v.audit.state).toBe('unknown');
  });

  it.each([
    ['v1.30.4-eks-a737599', {}, undefined, 'eks'],
    ['v1.31.1-gke.1146000', {}, undefined, 'gke'],
    [
      'v1.31.2',
      { 'kubernetes.azure.com/cluster': 'MC_rg_aks_westeurope' },
      'azure:///subscriptions/x/vm-0',
      'aks',
    ],
    ['v1.31.2', { 'eks.amazonaws.com/nodegroup': 'ng-1' }, undefined, 'eks'],
    ['v1.31.2', {}, 'gce://proj/europe-west1-b/node-1', 'gke'],
    ['v1.31.2', {}, 'aws:///eu-west-1a/i-0abc', 'eks'],
  ])(
    'managed: %s %j %s → %s, unknown (the provider setting decides)',
    (git, labels, providerID, platform) => {
      const node = { name: 'n1', labels, ...(providerID ? { providerID } : {}) };
      const v = evaluateControlPlane(
        snap({
          serverVersion: { major: 1, minor: 31, gitVersion: git },
          controlPlaneFacts: { apiServers: [], nodes: [node], loadBalancers: [] },
        }),
      );
      expect(v.platform).toBe(platform);
      expect(v.managed).toBe(true);
      expect(v.audit.state).toBe('unknown');
      expect(v.encryption.state).toBe('unknown');
    },
  );

  it('k3s: the API server flags travel in the node-args annotation (--kube-apiserver-arg, --secrets-encryption)', () => {
    const network = networkWith();
    network.cniConfig.k3sNodeArgs = [
      'server',
      '--kube-apiserver-arg',
      'audit-policy-file=/etc/rancher/k3s/audit.yaml',
      '--kube-apiserver-arg=audit-log-path=/var/log/k3s-audit.log',
      '--secrets-encryption',
    ];
    const v = evaluateControlPlane(
      snap({
        network,
        serverVersion: { major: 1, minor: 31, gitVersion: 'v1.31.2+k3s1' },
        controlPlaneFacts: { apiServers: [], nodes: [], loadBalancers: [] },
      }),
    );
    expect(v.platform).toBe('k3s');
    expect(v.audit.state).toBe('on');
    expect(v.encryption.state).toBe('on');
  });
});

describe('exposure', () => {
  it.each([
    ['10.1.2.3', false],
    ['172.20.0.1', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['127.0.0.1', false],
    ['100.64.0.1', false],
    ['203.0.113.10', true],
    ['8.8.8.8', true],
    ['fd00::1', false],
    ['2001:db8::1', true],
    ['localhost', false],
    ['abc.gr7.eu-west-1.eks.amazonaws.com', 'unknown'],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it('kubeconfig server, default/kubernetes endpoints and kube-system LoadBalancers are all looked at', () => {
    const network = networkWith();
    network.apiServer = {
      endpointSlices: [
        { name: 'kubernetes', addressType: 'IPv4', endpoints: [{ addresses: ['34.1.2.3'] }], ports: [] },
      ],
    };
    const v = evaluateControlPlane(
      snap({
        source: { kind: 'cluster', context: 'c', server: 'https://35.9.9.9:443' },
        network,
        controlPlaneFacts: {
          apiServers: [],
          nodes: [],
          loadBalancers: [
            { namespace: 'kube-system', name: 'api-lb', addresses: ['52.1.1.1', 'lb.example.com'] },
          ],
        },
      }),
    );
    expect(v.exposures).toEqual([
      { where: 'kubeconfig server', address: '35.9.9.9', public: true },
      { where: 'default/kubernetes endpoints', address: '34.1.2.3', public: true },
      { where: 'LoadBalancer Service kube-system/api-lb', address: '52.1.1.1', public: true },
      { where: 'LoadBalancer Service kube-system/api-lb', address: 'lb.example.com', public: 'unknown' },
    ]);
  });
});

describe('audit policy tiers', () => {
  it.each(AUDIT_TIERS)(
    '%s logs no secret value, omits RequestReceived, and gives the promised levels',
    (tier) => {
      const [doc] = renderYamlTemplate(`audit/policy-${tier}.yaml`, {});
      expect(secretLeaks(doc)).toEqual([]);
      expect(omitsRequestReceived(doc)).toBe(true);
      expect(auditPolicy(tier)).toContain('kind: Policy');
      const human = { user: 'alice', groups: ['system:authenticated'] };
      for (const [name, req] of Object.entries(PROMISED_REQUESTS)) {
        expect(levelFor(doc, { ...human, ...req, namespace: 'shop' }), `${tier} ${name}`).toBe(
          TIER_LEVELS[tier][name as keyof typeof PROMISED_REQUESTS],
        );
      }
    },
  );

  it('the check finds every way a policy could log a value (first match wins; conditional rules do not hide later ones)', () => {
    const policy = (rules: unknown[]) => ({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules });
    expect(secretLeaks(policy([{ level: 'RequestResponse' }]))).toHaveLength(10);
    expect(secretLeaks(policy([{ level: 'Request', verbs: ['create', 'update', 'patch'] }]))).toEqual([
      'rule 1 logs create Secret at Request (at most Metadata: values would be logged)',
      'rule 1 logs update Secret at Request (at most Metadata: values would be logged)',
      'rule 1 logs patch Secret at Request (at most Metadata: values would be logged)',
      'rule 1 logs create TokenReview at Request (at most Metadata: values would be logged)',
    ]);
    // A TokenRequest's response (the token) at RequestResponse, via a wildcard subresource.
    expect(
      secretLeaks(policy([{ level: 'RequestResponse', resources: [{ group: '', resources: ['*/token'] }] }])),
    ).toEqual([
      'rule 1 logs create TokenRequest (serviceaccounts/token) at RequestResponse (at most Request: values would be logged)',
    ]);
    // A rule for some users only does not hide the catch-all after it.
    expect(
      secretLeaks(
        policy([
          { level: 'Metadata', users: ['admin'], resources: [{ group: '', resources: ['secrets'] }] },
          { level: 'RequestResponse', resources: [{ group: '', resources: ['secrets'] }] },
        ]),
      ).length,
    ).toBeGreaterThan(0);
    // Metadata first for the sensitive resources: safe whatever follows.
    expect(
      secretLeaks(
        policy([
          {
            level: 'Metadata',
            resources: [
              { group: '', resources: ['secrets', 'serviceaccounts/token'] },
              { group: 'authentication.k8s.io', resources: ['tokenreviews'] },
            ],
          },
          { level: 'RequestResponse' },
        ]),
      ),
    ).toEqual([]);
    // Non-resource rules never match resource requests.
    expect(
      secretLeaks(policy([{ level: 'RequestResponse', nonResourceURLs: ['*'] }, { level: 'Metadata' }])),
    ).toEqual([]);
  });
});

const parseManifestsLoose = (text: string): unknown[] =>
  parseYamlDocuments(text, 'encryption-config.yaml').map((d) => d.value);

describe('EncryptionConfiguration', () => {
  const keyName = 'key-20261204';
  it.each(['secretbox', 'aesgcm'] as const)(
    '%s first, identity last, a placeholder where the key goes',
    (provider) => {
      const text = encryptionConfig({ provider, configmaps: false, keyName });
      const [doc] = parseManifestsLoose(text);
      const reading = readEncryptionConfiguration(doc);
      expect(reading.secretsWriteProvider).toBe(provider);
      expect(reading.problems).toEqual([
        'the key placeholder is still in place: generate a key on the node and put it there',
      ]);
      expect(text).toContain(KEY_PLACEHOLDER);
      expect(text).toContain('head -c 32 /dev/urandom | base64');
      expect(text).toMatch(/- identity: \{\}\s*$/);
    },
  );

  it('KMS v2 when a plugin endpoint is named; ConfigMaps when asked', () => {
    const text = encryptionConfig({
      provider: 'kms',
      kmsEndpoint: 'unix:///var/run/kms.sock',
      configmaps: true,
      keyName,
    });
    const [doc] = parseManifestsLoose(text);
    expect(readEncryptionConfiguration(doc)).toEqual({ secretsWriteProvider: 'kms', problems: [] });
    expect(text).toContain('resources: [secrets, configmaps]');
    expect(text).toContain('apiVersion: v2');
  });

  it('finds identity first, aescbc, KMS v1 and uncovered Secrets', () => {
    const cfg = (resources: string[], providers: unknown[]) => ({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [{ resources, providers }],
    });
    expect(
      readEncryptionConfiguration(cfg(['secrets'], [{ identity: {} }, { secretbox: { keys: [] } }])).problems,
    ).toEqual(['identity is first: Secrets are written in plaintext']);
    expect(readEncryptionConfiguration(cfg(['secrets'], [{ aescbc: {} }])).problems[0]).toMatch(
      /aescbc is first/,
    );
    expect(
      readEncryptionConfiguration(cfg(['secrets'], [{ kms: { apiVersion: 'v1' } }])).problems[0],
    ).toMatch(/KMS v1/);
    expect(readEncryptionConfiguration(cfg(['configmaps'], [{ secretbox: {} }])).problems).toEqual([
      'Secrets are not covered: they are stored in plaintext',
    ]);
    expect(readEncryptionConfiguration(cfg(['*.*'], [{ secretbox: {} }])).secretsWriteProvider).toBe(
      'secretbox',
    );
  });
});
