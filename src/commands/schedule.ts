/**
 * `kube-harden schedule`: what runs the exceptions review (phase 7) regularly, written to `--out DIR` from
 * templates/schedule/: a GitHub Actions workflow, a GitLab CI job, and (with `--image`) a Kubernetes CronJob with
 * its own read-only ServiceAccount, ClusterRole (exactly the inventory's reads: src/inventory/access.ts) and
 * ClusterRoleBinding, in a namespace that enforces Pod Security restricted. Nothing is sent to a cluster.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { WITHIN } from '../../steps/exceptions-review.js';
import { renderObjectTemplate, renderTemplate } from '../../steps/kit/templates.js';
import { type CommandSpec, parseSettingFlags, settingFlags } from '../cli/args.js';
import { ExitCode, UsageError } from '../errors.js';
import { inventoryReadRules } from '../inventory/access.js';
import type { KubeObject } from '../k8s/types.js';
import { DEFAULT_EXCEPTIONS_FILE, loadExceptions } from '../policy/exceptions.js';
import { version } from '../version.js';
import type { Command } from './types.js';

export const SCHEDULE_NAME = 'kube-harden-review';
const KUBECONFIG_MAP = `${SCHEDULE_NAME}-kubeconfig`;
const EXCEPTIONS_MAP = `${SCHEDULE_NAME}-exceptions`;
/** Where the CronJob's pod finds its kubeconfig and register (the projected ConfigMaps). */
const CONFIG_DIR = '/etc/kube-harden';

export interface ScheduleOptions {
  /** Cron schedule (5 fields). */
  schedule: string;
  /** The "expiring" window, in days. */
  within: number;
  /** The register's path in the repository (CI jobs). */
  exceptionsPath: string;
  /** The register's text, embedded in a ConfigMap for the CronJob (absent: the review runs without one). */
  exceptionsText?: string;
  /** The CronJob's image (absent: no Kubernetes objects). */
  image?: string;
  namespace: string;
  /** kube-harden's version the CI jobs run (`npx kube-harden@VERSION`). */
  version: string;
}

export interface ScheduleFile {
  path: string;
  content: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A path that is safe in a shell command line and a YAML block (the CI jobs pass it to kube-harden). */
const SAFE_PATH = /^[A-Za-z0-9._/][A-Za-z0-9._/-]*$/;
const CRON_FIELD = /^[0-9*/,-]+$/;
/** An image reference: registry/name[:tag][@digest], no spaces or shell characters. */
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;

/** The review's command line in the CronJob (after `kube-harden`). */
export function cronJobArgs(options: Pick<ScheduleOptions, 'within' | 'exceptionsText'>): string[] {
  return [
    'exceptions',
    'review',
    '-A',
    '--kubeconfig',
    `${CONFIG_DIR}/kubeconfig`,
    ...(options.exceptionsText !== undefined ? ['--exceptions', `${CONFIG_DIR}/exceptions.yaml`] : []),
    '--within',
    `${options.within}d`,
    '-o',
    'json',
  ];
}

/** The CronJob and what it needs, in apply order (Namespace first, CronJob last). */
export function scheduleObjects(options: ScheduleOptions): KubeObject[] {
  if (!options.image) return [];
  const ns = options.namespace;
  const role = renderObjectTemplate('schedule/clusterrole.yaml', { name: SCHEDULE_NAME });
  (role as unknown as { rules: unknown }).rules = inventoryReadRules();
  const objects: KubeObject[] = [
    renderObjectTemplate('schedule/namespace.yaml', { name: ns }),
    renderObjectTemplate('schedule/serviceaccount.yaml', { name: SCHEDULE_NAME, namespace: ns }),
    role,
    renderObjectTemplate('schedule/clusterrolebinding.yaml', {
      name: SCHEDULE_NAME,
      role: SCHEDULE_NAME,
      serviceAccount: SCHEDULE_NAME,
      namespace: ns,
    }),
    renderObjectTemplate('schedule/kubeconfig-configmap.yaml', { name: KUBECONFIG_MAP, namespace: ns }),
  ];
  if (options.exceptionsText !== undefined) {
    const map = renderObjectTemplate('schedule/exceptions-configmap.yaml', {
      name: EXCEPTIONS_MAP,
      namespace: ns,
    });
    (map as unknown as { data: Record<string, string> }).data = { 'exceptions.yaml': options.exceptionsText };
    objects.push(map);
  }
  const cronJob = renderObjectTemplate('schedule/cronjob.yaml', {
    name: SCHEDULE_NAME,
    namespace: ns,
    schedule: options.schedule,
    serviceAccount: SCHEDULE_NAME,
    image: options.image,
    kubeconfigMap: KUBECONFIG_MAP,
    exceptionsMap: EXCEPTIONS_MAP,
  });
  const container = (
    cronJob as unknown as {
      spec: { jobTemplate: { spec: { template: { spec: { containers: Array<{ args?: string[] }> } } } } };
    }
  ).spec.jobTemplate.spec.template.spec.containers[0];
  if (container) container.args = cronJobArgs(options);
  objects.push(cronJob);
  return objects;
}

/** Every file `schedule` writes, relative to `--out`. */
export function scheduleFiles(options: ScheduleOptions): ScheduleFile[] {
  const ci = {
    version: options.version,
    exceptions: options.exceptionsPath,
    within: `${options.within}d`,
  };
  const files: ScheduleFile[] = [
    {
      path: '.github/workflows/kube-harden-exceptions-review.yml',
      content: renderTemplate('schedule/github-actions.yml', {
        ...ci,
        cron: options.schedule,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not JavaScript
        kubeconfigSecret: '${{ secrets.KUBE_HARDEN_KUBECONFIG }}',
      }),
    },
    {
      path: 'gitlab/kube-harden-exceptions-review.gitlab-ci.yml',
      content: renderTemplate('schedule/gitlab-ci.yml', ci),
    },
  ];
  const objects = scheduleObjects(options);
  if (objects.length > 0) {
    files.push({
      path: 'kubernetes/kube-harden-review.yaml',
      content: objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'),
    });
  }
  files.push({ path: 'README.md', content: readme(options) });
  return files;
}

function readme(options: ScheduleOptions): string {
  const lines = [
    '# kube-harden: the exceptions review, on a schedule',
    '',
    `Written by \`kube-harden schedule\` (kube-harden ${options.version}). Each runs \`kube-harden exceptions review\``,
    `(expiring = within ${options.within} days) and exits 0 when clean, 9 when an exception has expired or is unused,`,
    '7 when part of the cluster could not be read.',
    '',
    `- \`.github/workflows/kube-harden-exceptions-review.yml\`: GitHub Actions, cron \`${options.schedule}\`. Needs the`,
    '  repository secret `KUBE_HARDEN_KUBECONFIG` (a kubeconfig for a read-only identity).',
    '- `gitlab/kube-harden-exceptions-review.gitlab-ci.yml`: GitLab CI; include it from `.gitlab-ci.yml`, add a',
    `  pipeline schedule (CI/CD > Schedules) with cron \`${options.schedule}\` and a File variable \`KUBE_HARDEN_KUBECONFIG\`.`,
  ];
  if (options.image) {
    lines.push(
      `- \`kubernetes/kube-harden-review.yaml\`: a CronJob in namespace \`${options.namespace}\` (Pod Security restricted)`,
      `  running \`${options.image}\` as ServiceAccount \`${SCHEDULE_NAME}\`, bound to a ClusterRole that grants only the`,
      '  reads the report needs (list on the inventoried kinds, get on a few named objects; no Secrets, no writes).',
      '  Apply it with `kubectl apply --server-side -f kubernetes/kube-harden-review.yaml`; a failed Job means the',
      `  review found something: \`kubectl logs -n ${options.namespace} job/<job>\`.`,
      options.exceptionsText !== undefined
        ? `  The register is embedded in ConfigMap \`${EXCEPTIONS_MAP}\` (key exceptions.yaml): update it when the register changes.`
        : `  No register was given: create ConfigMap \`${EXCEPTIONS_MAP}\` (key exceptions.yaml) and add \`--exceptions ${CONFIG_DIR}/exceptions.yaml\` to the args to review one.`,
    );
  } else {
    lines.push(
      '- No CronJob: pass `--image IMAGE` (an image whose `kube-harden` is on the PATH) to write one.',
    );
  }
  return `${lines.join('\n')}\n`;
}

const spec: CommandSpec = {
  name: 'schedule',
  summary: 'Write CI jobs and a CronJob that run the exceptions review regularly',
  usage: '--out DIR [--image IMAGE] [-n NAMESPACE] [--schedule CRON] [flags]',
  description: `Writes into DIR a GitHub Actions workflow and a GitLab CI job that run "kube-harden exceptions review" and the
report on a schedule, and with --image a Kubernetes CronJob (Pod Security restricted) with its own read-only
ServiceAccount, ClusterRole (exactly the reads the report needs) and ClusterRoleBinding. Nothing is sent to a
cluster. The jobs fail when the review exits 9 (an exception expired or is unused).`,
  flags: [
    {
      name: 'out',
      type: 'string',
      arg: 'DIR',
      description: 'the directory to write into (created if needed)',
    },
    {
      name: 'image',
      type: 'string',
      arg: 'IMAGE',
      description: 'the CronJob image (kube-harden on its PATH); without it, no CronJob',
    },
    {
      name: 'namespace',
      short: 'n',
      type: 'string',
      arg: 'NAMESPACE',
      description: 'the CronJob namespace',
      default: 'kube-harden',
    },
    {
      name: 'schedule',
      type: 'string',
      arg: 'CRON',
      description: 'when to run (cron, 5 fields, UTC)',
      default: '0 6 * * 1',
    },
    {
      name: 'exceptions',
      type: 'string',
      arg: 'FILE',
      description: `the exceptions register (the CI jobs read it from the repository; the CronJob gets a copy) (default: ./${DEFAULT_EXCEPTIONS_FILE} if present)`,
    },
    ...settingFlags([WITHIN]).map((f) => ({ ...f, description: WITHIN.description })),
  ],
  maxPositionals: 0,
  examples: [
    'kube-harden schedule --out ci/',
    'kube-harden schedule --out ci/ --image ghcr.io/example/kube-harden:0.1.0 -n kube-harden --schedule "0 6 * * 1"',
  ],
};

export const schedule: Command = {
  spec,
  async run({ parsed, output }) {
    const str = (name: string) =>
      typeof parsed.flags[name] === 'string' ? (parsed.flags[name] as string) : undefined;
    const out = str('out');
    if (!out)
      throw new UsageError('kube-harden schedule needs --out DIR', 'e.g. kube-harden schedule --out ci/');
    const namespace = str('namespace') ?? 'kube-harden';
    if (!DNS_LABEL.test(namespace))
      throw new UsageError(
        `invalid --namespace "${namespace}"`,
        'use a DNS label: lowercase letters, digits and -',
      );
    const cron = (str('schedule') ?? '0 6 * * 1').trim();
    const fields = cron.split(/\s+/);
    if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f)))
      throw new UsageError(
        `invalid --schedule "${cron}"`,
        'use 5 cron fields, e.g. "0 6 * * 1" (Mondays 06:00 UTC)',
      );
    const image = str('image');
    if (image !== undefined && !IMAGE.test(image))
      throw new UsageError(
        `invalid --image "${image}"`,
        'use an image reference, e.g. ghcr.io/org/kube-harden:0.1.0',
      );
    const given = str('exceptions');
    const exceptionsPath = given ?? DEFAULT_EXCEPTIONS_FILE;
    if (!SAFE_PATH.test(exceptionsPath))
      throw new UsageError(
        `--exceptions "${exceptionsPath}" cannot be passed safely to the CI jobs`,
        'use a path of letters, digits, ".", "_", "-" and "/" (relative to the repository root)',
      );
    // The register is checked (a broken one is exit 6 now, not at the first scheduled run) and copied for the CronJob.
    const register = await loadExceptions(exceptionsPath, { optional: given === undefined });
    const within = parseSettingFlags(parsed.flags, [WITHIN])[WITHIN.key] as number;
    const options: ScheduleOptions = {
      schedule: cron,
      within,
      exceptionsPath,
      namespace,
      version: version(),
      ...(image ? { image } : {}),
      ...(register ? { exceptionsText: await readFile(exceptionsPath, 'utf8') } : {}),
    };
    const files = scheduleFiles(options);
    for (const f of files) {
      const path = join(out, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.content);
    }
    output.err.write(`wrote ${files.map((f) => f.path).join(', ')} to ${out}\n`);
    if (!image) output.err.write('no CronJob: pass --image IMAGE to write one\n');
    if (!register)
      output.err.write(
        `no exceptions register (${exceptionsPath}): the CI jobs expect it in the repository\n`,
      );
    return existsSync(out) ? ExitCode.ok : ExitCode.error;
  },
};
