/** The namespaces a run covers: `-n` (empty = all) minus `--exclude-namespace`. */
export interface Scope {
  namespaces: string[];
  exclude: string[];
}

export function inScope(scope: Scope, namespace: string): boolean {
  if (scope.exclude.includes(namespace)) return false;
  return scope.namespaces.length === 0 || scope.namespaces.includes(namespace);
}
