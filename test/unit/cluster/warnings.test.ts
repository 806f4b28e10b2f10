import { describe, expect, it } from 'vitest';
import { parseWarnings } from '../../../src/cluster/warnings.js';

describe('parseWarnings (RFC 7234 warn-code SP warn-agent SP warn-text)', () => {
  it('reads one warning with an empty agent', () => {
    expect(
      parseWarnings('299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"'),
    ).toEqual(['v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice']);
  });

  it('splits headers joined with ", " by pattern, not by commas inside the text', () => {
    const joined =
      '299 - "existing pods in namespace \\"a\\" violate the new PodSecurity enforce level \\"restricted:latest\\"", ' +
      '299 - "web-1 (and 2 other pods): allowPrivilegeEscalation != false, unrestricted capabilities"';
    expect(parseWarnings(joined)).toEqual([
      'existing pods in namespace "a" violate the new PodSecurity enforce level "restricted:latest"',
      'web-1 (and 2 other pods): allowPrivilegeEscalation != false, unrestricted capabilities',
    ]);
  });

  it('unescapes backslashes, keeps order, drops duplicates and non-299 codes', () => {
    expect(
      parseWarnings(['299 - "a\\\\b"', '299 - "a\\\\b"', '199 agent "misc"', '299 kube-apiserver "c"']),
    ).toEqual(['a\\b', 'c']);
  });

  it('accepts a trailing warn-date and returns nothing for an absent header', () => {
    expect(parseWarnings('299 - "x" "Sat, 25 Aug 2012 23:34:45 GMT"')).toEqual(['x']);
    expect(parseWarnings(undefined)).toEqual([]);
  });
});
