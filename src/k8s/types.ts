/**
 * The Kubernetes vocabulary every room may import: objects, references, versions, sources and access-review
 * attributes. Pure types and helpers; nothing here talks to a cluster.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

/** Any Kubernetes object, as JSON. Fields beyond the envelope are read with care (`unknown`). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Names one object. `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** Names a kind to list. */
export interface KindRef {
  apiVersion: string;
  kind: string;
}

/** Where objects come from, as shown to the operator and recorded in reports and plans. */
export type SourceInfo =
  | { kind: 'cluster'; context: string; server: string; user?: string }
  | { kind: 'manifests'; path: string };

export interface ServerVersion {
  major: number;
  minor: number;
  gitVersion: string;
}

/** Attributes for a SelfSubjectAccessReview (authorization.k8s.io/v1 ResourceAttributes). */
export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface AccessDecision extends AccessCheck {
  allowed: boolean;
  reason?: string;
}

export interface Identity {
  username: string;
  groups: string[];
}

/** Reference of an object. */
export function refOf(object: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name };
  if (object.metadata.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

/** A map key for an object reference: `apiVersion/kind/namespace/name` (empty namespace when cluster-scoped). */
export function refKey(ref: Pick<ObjectRef, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** `kind/namespace/name` or `kind/name`, the way messages name an object. */
export function describeRef(ref: ObjectRef): string {
  const kind = ref.kind.toLowerCase();
  return ref.namespace ? `${kind} ${ref.namespace}/${ref.name}` : `${kind}/${ref.name}`;
}
