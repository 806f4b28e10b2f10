/**
 * EncryptionConfiguration (apiserver.config.k8s.io/v1) as data (pure): what a configuration does to Secrets, and
 * the placeholder kube-harden leaves where a key goes. kube-harden never generates a key: the operator runs the
 * command printed with the configuration on a control-plane node.
 */
import { isMap, list } from '../../k8s/json.js';

export const ENCRYPTION_PROVIDERS = ['secretbox', 'aesgcm', 'kms'] as const;
export type EncryptionProvider = (typeof ENCRYPTION_PROVIDERS)[number];

/**
 * Where the key goes. Not base64 (`_`), so an API server started with the placeholder still in place refuses the
 * file instead of encrypting with a known key.
 */
export const KEY_PLACEHOLDER = 'KUBE_HARDEN_KEY_PLACEHOLDER_GENERATE_ON_THE_NODE';

/** The command that makes a key on the node (32 random bytes, base64), as the upstream docs give it. */
export const KEY_COMMAND = 'head -c 32 /dev/urandom | base64';

const KNOWN = ['identity', 'aescbc', 'aesgcm', 'secretbox', 'kms'];

export interface EncryptionReading {
  /** The first provider of the entry that covers Secrets (the one every write uses), or undefined: not covered. */
  secretsWriteProvider?: string;
  /** Problems: Secrets not covered, identity first, a deprecated or weak provider, a placeholder left. */
  problems: string[];
}

/** What a parsed EncryptionConfiguration does to Secrets. */
export function readEncryptionConfiguration(config: unknown): EncryptionReading {
  const problems: string[] = [];
  if (
    !isMap(config) ||
    config.apiVersion !== 'apiserver.config.k8s.io/v1' ||
    config.kind !== 'EncryptionConfiguration'
  )
    return { problems: ['not an apiserver.config.k8s.io/v1 EncryptionConfiguration'] };
  const entry = list(config.resources).find((r) =>
    (Array.isArray(r.resources) ? r.resources : []).some((x) => ['secrets', '*.', '*.*'].includes(String(x))),
  );
  if (!entry) return { problems: ['Secrets are not covered: they are stored in plaintext'] };
  const providers = list(entry.providers);
  const first = providers[0] ? Object.keys(providers[0]).find((k) => KNOWN.includes(k)) : undefined;
  if (!first) return { problems: ['the Secrets entry has no provider'] };
  if (first === 'identity') problems.push('identity is first: Secrets are written in plaintext');
  if (first === 'aescbc')
    problems.push('aescbc is first: not recommended upstream (CBC padding-oracle attacks)');
  if (first === 'kms' && isMap(providers[0]?.kms) && providers[0].kms.apiVersion !== 'v2')
    problems.push(
      'KMS v1 is first: deprecated since 1.28 and disabled by default since 1.29; use apiVersion v2',
    );
  if (JSON.stringify(config).includes(KEY_PLACEHOLDER))
    problems.push('the key placeholder is still in place: generate a key on the node and put it there');
  return { secretsWriteProvider: first, problems };
}
