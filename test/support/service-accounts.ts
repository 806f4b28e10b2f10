/**
 * Pods and ServiceAccounts on the test control plane. There is no scheduler or kubelet: the controller-manager
 * creates Pods (Pending) that went through admission, so a Pod's `kube-api-access-*` volume says whether the
 * ServiceAccount admission plugin mounted a token.
 */
import { kubectlJson, kubectlRaw, waitFor } from '../cluster/harness.js';

/** The fields of a Pod these helpers read (a test's own Pod type may name more). */
export interface PodWithVolumes {
  spec: { volumes?: Array<{ name: string }> };
}

/** Whether the ServiceAccount admission plugin mounted a token into the Pod. */
export const hasTokenVolume = (p: PodWithVolumes): boolean =>
  (p.spec.volumes ?? []).some((v) => v.name.startsWith('kube-api-access-'));

/** The Pods labelled `app=<app>` in `ns`. */
export async function podsOf<P>(ns: string, app: string): Promise<P[]> {
  return (await kubectlJson<{ items: P[] }>(['get', 'pods', '-n', ns, '-l', `app=${app}`])).items;
}

/** Waits for a Pod of `app` that matches `pred` and returns it. */
export async function podWhere<P>(
  ns: string,
  app: string,
  pred: (p: P) => boolean,
  what: string,
): Promise<P> {
  return waitFor(async () => (await podsOf<P>(ns, app)).find(pred), { what, timeoutMs: 60_000 });
}

/** `kubectl auth can-i VERB RESOURCE` as the ServiceAccount `account` of `ns`: `yes` or `no`. */
export async function accountCan(
  ns: string,
  account: string,
  verb: string,
  resource: string,
): Promise<string> {
  const r = await kubectlRaw([
    'auth',
    'can-i',
    verb,
    resource,
    '-n',
    ns,
    `--as=system:serviceaccount:${ns}:${account}`,
  ]);
  return r.stdout.trim();
}
