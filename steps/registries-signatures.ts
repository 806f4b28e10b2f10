/**
 * Phase 5, opt-in (issue 13 item 4): signed images. With `--sign-subject` and `--sign-issuer` (the keyless
 * Cosign identity of the CI workflow that signs) and `--sign-image` (the repositories whose images it signs), a
 * Kyverno ClusterPolicy with a `verifyImages` rule (templates/registries/kyverno-verify-images.yaml) in Audit
 * mode: nothing is refused, unsigned images are reported. Without Kyverno the same policy is a manual change
 * (the file and how to install Kyverno and apply it): kube-harden does not install an admission engine.
 *
 * Findings: the moving-tag findings of the assessment (KH-IMAGE-LATEST, src/policy/images.ts mutableTagReason)
 * for the namespaces covered, and for every other image without a digest a suggestion to pin it
 * (KH-IMAGE-NOT-PINNED): a verified signature is a signature of a digest, and a tag can move.
 */

import { stringify } from 'yaml';
import type { Change, SettingParse, SettingSpec, Step, StepFinding } from '../src/engine/types.js';
import { describeEngine, engineInstalled } from '../src/inventory/admission-engines.js';
import { isMutableTag, parseImage } from '../src/policy/images.js';
import { imageUses, parseAllowList } from '../src/policy/registries/index.js';
import { finding } from './kit/findings.js';
import {
  KYVERNO_POLICY,
  type RegistryScope,
  registryScope,
  signaturePolicy,
  signatureTargets,
  VERIFY_POLICY_NAME,
} from './kit/registries.js';
import { settingOf } from './kit/settings.js';

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function parseText(what: string): (text: string) => SettingParse<string> {
  return (text) => {
    const t = text.trim();
    if (t === '') return { ok: false, error: 'is empty' };
    if (t.length > 1024 || CONTROL_CHARS.test(t)) return { ok: false, error: `is not a ${what}` };
    return { ok: true, value: t };
  };
}

export const SIGN_SUBJECT: SettingSpec<string> = {
  key: 'registries-signatures.subject',
  flag: 'sign-subject',
  type: 'SUBJECT',
  description:
    'the keyless Cosign identity that signs the images: the certificate subject, e.g. https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
  parse: parseText('certificate subject'),
};

export const SIGN_ISSUER: SettingSpec<string> = {
  key: 'registries-signatures.issuer',
  flag: 'sign-issuer',
  type: 'URL',
  description:
    'the OIDC issuer of that identity, e.g. https://token.actions.githubusercontent.com (GitHub Actions) or https://gitlab.com',
  parse: (text) => {
    const parsed = parseText('URL')(text);
    if (!parsed.ok) return parsed;
    if (!/^https:\/\/[^\s/]+/.test(parsed.value))
      return {
        ok: false,
        error: 'is not an https URL',
        hint: 'e.g. https://token.actions.githubusercontent.com',
      };
    return parsed;
  },
};

export const SIGN_IMAGE: SettingSpec<string[]> = {
  key: 'registries-signatures.images',
  flag: 'sign-image',
  type: 'HOST[/PATH]',
  description:
    'a registry or repository prefix whose images must be signed by that identity (repeatable, or a comma list)',
  multiple: true,
  parse: parseAllowList,
};

export interface SignatureFacts {
  scope: RegistryScope;
  subject?: string;
  issuer?: string;
  entries: string[];
  kyverno: boolean;
  kyvernoLine: string;
  /** Distinct images used in the namespaces covered, with how many workloads use each. */
  images: number;
}

export const registriesSignatures: Step<SignatureFacts> = {
  id: 'registries-signatures',
  phase: 5,
  title: 'Signed images: audit',
  summary:
    "report images that lack a keyless Cosign signature of your CI's identity (Kyverno verifyImages, audit)",
  risk: 'low',
  optIn: true,
  settings: [SIGN_SUBJECT, SIGN_ISSUER, SIGN_IMAGE],
  get targets() {
    return signatureTargets();
  },

  permissions(_options, snapshot) {
    if (!engineInstalled(snapshot.admissionEngines?.kyverno)) return [];
    return ['create', 'patch'].map((verb) => ({ verb, group: 'kyverno.io', resource: 'clusterpolicies' }));
  },

  async detect(ctx) {
    const scope = registryScope(ctx.assessment, ctx.options);
    const covered = new Set(scope.namespaces);
    const findings: StepFinding[] = [];
    // Moving tags: the assessment already found them (KH-IMAGE-LATEST); shown here for the namespaces covered.
    for (const f of ctx.assessment.findings) {
      if (f.control !== 'KH-IMAGE-LATEST' || !f.target.namespace || !covered.has(f.target.namespace))
        continue;
      const again = finding(
        f.control,
        { kind: f.target.kind, namespace: f.target.namespace, name: f.target.name },
        f.message,
      );
      findings.push(f.excepted ? { ...again, excepted: true } : again);
    }
    // Every other image without a digest: one suggestion per image.
    const byImage = new Map<string, { kind: string; namespace: string; name: string; uses: number }>();
    for (const u of imageUses(ctx.snapshot, covered)) {
      if (u.image === '') continue;
      const ref = parseImage(u.image);
      if (ref.digest !== undefined) continue;
      // No tag or a moving one: KH-IMAGE-LATEST above already says to pin it.
      if (isMutableTag(ref)) continue;
      const seen = byImage.get(u.image);
      if (seen) seen.uses++;
      else byImage.set(u.image, { kind: u.kind, namespace: u.namespace, name: u.name, uses: 1 });
    }
    for (const [image, w] of [...byImage].sort(([a], [b]) => (a < b ? -1 : 1)))
      findings.push(
        finding(
          'KH-IMAGE-NOT-PINNED',
          { kind: w.kind, namespace: w.namespace, name: w.name },
          `${image} is not pinned by digest (${w.uses} use(s) in the namespaces covered): resolve it with \`crane digest ${image}\` and use ${parseImage(image).registry}/${parseImage(image).repository}@sha256:…`,
        ),
      );
    const kyvernoFacts = ctx.snapshot.admissionEngines?.kyverno;
    const subject = settingOf(SIGN_SUBJECT, ctx.options);
    const issuer = settingOf(SIGN_ISSUER, ctx.options);
    return {
      facts: {
        scope,
        ...(subject !== undefined ? { subject } : {}),
        ...(issuer !== undefined ? { issuer } : {}),
        entries: settingOf(SIGN_IMAGE, ctx.options) ?? [],
        kyverno: engineInstalled(kyvernoFacts),
        kyvernoLine: describeEngine('kyverno', kyvernoFacts),
        images: new Set(imageUses(ctx.snapshot, covered).map((u) => u.image)).size,
      },
      findings,
    };
  },

  propose(facts): Change[] {
    if (!facts.subject || !facts.issuer || facts.entries.length === 0 || facts.scope.namespaces.length === 0)
      return [];
    const policy = signaturePolicy(facts.entries, facts.subject, facts.issuer, facts.scope.selector);
    const reason = `verify (audit only) that images from ${facts.entries.join(', ')} carry a keyless Cosign signature of ${facts.subject} (issuer ${facts.issuer}), logged in Rekor`;
    if (facts.kyverno)
      return [
        {
          kind: 'apply',
          id: 'registries-signatures/kyverno-policy',
          target: { ...KYVERNO_POLICY, name: VERIFY_POLICY_NAME },
          desired: policy,
          risk: 'low',
          reason,
          notes: [
            'Kyverno fetches each signature from the registry at admission: the webhook waits up to 30 s (failurePolicy Ignore while auditing)',
          ],
        },
      ];
    return [
      {
        kind: 'manual',
        id: 'registries-signatures/kyverno-policy',
        risk: 'manual',
        reason: `${reason}. ${facts.kyvernoLine}: kube-harden does not install an admission engine, so this is a file to apply once Kyverno runs.`,
        notes: [],
        artifact: { path: 'kyverno-verify-images.yaml', content: toYaml(policy) },
        instructions: [
          '1. Install Kyverno (1.13 or later), e.g. `helm repo add kyverno https://kyverno.github.io/kyverno && helm install kyverno kyverno/kyverno -n kyverno --create-namespace`; wait for `kubectl -n kyverno get deploy` to be ready.',
          '2. Review kyverno-verify-images.yaml and `kubectl apply -f kyverno-verify-images.yaml`.',
          '3. Watch what fails: `kubectl get policyreports -A` and the Warnings on `kubectl apply` of workloads (nothing is refused in Audit).',
          '4. When nothing unsigned remains: set validationFailureAction Enforce, failurePolicy Fail and mutateDigest true (tags are then pinned to the verified digest).',
        ].join('\n'),
      },
    ];
  },

  explain(facts, changes) {
    const missing = [
      facts.subject ? '' : '--sign-subject',
      facts.issuer ? '' : '--sign-issuer',
      facts.entries.length ? '' : '--sign-image',
    ].filter(Boolean);
    return {
      why: `A trusted registry can still serve an image nobody of yours built: a pushed-over tag, a compromised CI token. A keyless Cosign signature ties each image to the CI workflow that built it (its certificate subject and OIDC issuer), recorded in the Rekor transparency log; Kyverno's verifyImages checks it at admission. ${facts.images} distinct image(s) run in the namespaces covered; images without a digest are listed as findings (a signature is checked for a digest).${
        missing.length ? ` Not proposed: name ${missing.join(', ')}.` : ''
      }`,
      impact: changes.length
        ? facts.kyverno
          ? 'Audit only: nothing is refused. Pods whose images from the repositories named are unsigned (or signed by another identity) are reported in PolicyReports and get a Warning.'
          : 'Nothing is written to the cluster: a policy file and the steps to install Kyverno and apply it.'
        : 'No change.',
      rollback: facts.kyverno
        ? 'kube-harden undo RUN_ID deletes the ClusterPolicy (or restores the previous one).'
        : 'Nothing to roll back (manual): kubectl delete -f kyverno-verify-images.yaml removes the policy.',
    };
  },
};

function toYaml(object: unknown): string {
  return stringify(object, { lineWidth: 0 });
}
