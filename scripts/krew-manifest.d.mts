export const KREW_API_VERSION: string;
export const PLUGIN_NAME: string;
export function parseSums(text: string): Map<string, string>;
export interface KrewPlatform {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string }[] };
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: { from?: string; to?: string }[];
}
export interface KrewManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    homepage?: string;
    shortDescription: string;
    description?: string;
    caveats?: string;
    platforms: KrewPlatform[];
  };
}
export function krewManifest(options: {
  version: string;
  sums: Map<string, string>;
  baseUrl?: string;
}): KrewManifest;
export function validateKrewManifest(doc: unknown, name: string): string[];
