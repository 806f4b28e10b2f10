/** The registry allow-list's ValidatingAdmissionPolicyBinding as it is on the test control plane. */
import { POLICY_NAME } from '../../steps/kit/registries.js';
import { kubectlJson } from '../cluster/harness.js';

/** The binding's validationActions: `[Warn, Audit]` after registries-warn, `[Deny, Audit]` after registries-enforce. */
export async function bindingActions(): Promise<string[]> {
  return (
    await kubectlJson<{ spec: { validationActions: string[] } }>([
      'get',
      'validatingadmissionpolicybinding',
      POLICY_NAME,
    ])
  ).spec.validationActions;
}
