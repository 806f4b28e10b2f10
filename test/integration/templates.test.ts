/**
 * Every Kubernetes object under templates/, rendered with its sample values (test/support/template-samples.ts), is
 * accepted by the real API server: a server-side apply dry-run (field manager kube-harden, strict field validation,
 * admission included — Pod Security validates its namespace labels). Placeholders named `namespace`, and the
 * name of a Namespace, get a fresh namespace. Objects that are not API resources (audit Policy,
 * EncryptionConfiguration, CI snippets) are checked by the unit test only.
 */
import { beforeAll, expect, it } from 'vitest';
import { connect, type LiveCluster } from '../../src/cluster/live.js';
import { contains } from '../../src/engine/fields.js';
import { kindInfo } from '../../src/k8s/kinds.js';
import type { KubeObject } from '../../src/k8s/types.js';
import {
  placeholdersOf,
  renderObjectTemplate,
  renderYamlTemplate,
  type TemplateValues,
  templateFiles,
} from '../../steps/kit/templates.js';
import { clusterInfo, describeCluster, freshNamespace } from '../cluster/harness.js';
import { TEMPLATE_SAMPLES } from '../support/template-samples.js';

/** The templates that render to API objects kube-harden can apply. */
const objectTemplates = templateFiles().filter((file) => {
  if (!/\.ya?ml$/.test(file)) return false;
  const docs = renderYamlTemplate(file, TEMPLATE_SAMPLES[file] ?? {});
  return docs.some((d) => {
    const o = d as { apiVersion?: unknown; kind?: unknown };
    return (
      typeof o.apiVersion === 'string' &&
      typeof o.kind === 'string' &&
      kindInfo({ apiVersion: o.apiVersion, kind: o.kind }) !== undefined
    );
  });
});

describeCluster('templates (server-side dry-run)', () => {
  let admin: LiveCluster;
  beforeAll(() => {
    admin = connect({ kubeconfig: clusterInfo().adminKubeconfig });
  });

  async function valuesFor(file: string): Promise<TemplateValues> {
    const values: Record<string, string | number | boolean> = { ...TEMPLATE_SAMPLES[file] };
    const ns = await freshNamespace('tpl');
    if ('namespace' in values) values.namespace = ns;
    const rendered = renderObjectTemplate(file, TEMPLATE_SAMPLES[file] ?? {});
    // A Namespace template: a name that does not exist yet (the dry-run is a create).
    if (rendered.kind === 'Namespace' && placeholdersOf(file).includes('name')) values.name = `${ns}-new`;
    return values;
  }

  it('finds the object templates', () => {
    expect(objectTemplates).toEqual(
      expect.arrayContaining(['psa/namespace-enforce.yaml', 'psa/namespace-warn-audit.yaml']),
    );
  });

  it.each(objectTemplates)('%s is accepted as is by the API server', async (file) => {
    const object = renderObjectTemplate(file, await valuesFor(file));
    const res = await admin.dryRunApply(object, { fieldManager: 'kube-harden' });
    expect(res.object.kind).toBe(object.kind);
    expect(res.object.metadata.name).toBe(object.metadata.name);
    // What the template sets is what the server would store (nothing dropped, nothing renamed).
    expect(
      contains(
        res.object as unknown as Record<string, unknown>,
        object as unknown as Record<string, unknown>,
      ),
    ).toBe(true);
    // And nothing was written.
    expect(
      (
        await admin.get({
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata.name,
          ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
        })
      ).value,
    ).toBeUndefined();
  });

  it('the dry-run can fail: a bad level in the enforce template is refused by Pod Security admission', async () => {
    const values = { ...(await valuesFor('psa/namespace-enforce.yaml')), level: 'strictest' };
    const object: KubeObject = renderObjectTemplate('psa/namespace-enforce.yaml', values);
    await expect(admin.dryRunApply(object, { fieldManager: 'kube-harden' })).rejects.toThrow(
      /strictest|enforce/,
    );
  });
});
