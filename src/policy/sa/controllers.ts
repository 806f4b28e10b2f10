/**
 * Known controllers and operators: images (and Helm charts) of software that calls the Kubernetes API by design,
 * so that a workload running one keeps its token even without a binding the inventory can see (e.g. when its
 * ClusterRoleBinding is outside a narrowed run). The table is deliberately small and conservative: a match is
 * evidence of API use, no match is not evidence of the contrary. Images are matched on their repository path
 * (registry and tag ignored: `registry.k8s.io/ingress-nginx/controller:v1.8.1` → `ingress-nginx/controller`),
 * charts on the `helm.sh/chart` label (`cert-manager-v1.15.3`).
 *
 * Sources: each project's published manifests or chart (image repositories as of 2026).
 */
import { parseImage } from '../images.js';

export interface KnownController {
  name: string;
  /** Matches the image repository path (no registry, no tag). */
  image: RegExp;
  /** Matches the `helm.sh/chart` label value (`<chart>-<version>`). */
  chart?: RegExp;
}

export const KNOWN_CONTROLLERS: readonly KnownController[] = [
  {
    name: 'ingress-nginx controller',
    image: /^ingress-nginx\/controller(-chroot)?$/,
    chart: /^ingress-nginx-v?\d/,
  },
  {
    name: 'cert-manager',
    image: /^jetstack\/cert-manager-(controller|cainjector|webhook|startupapicheck)$/,
    chart: /^cert-manager-v?\d/,
  },
  {
    name: 'Prometheus Operator',
    image: /^prometheus-operator\/prometheus-operator$/,
    chart: /^kube-prometheus-stack-\d/,
  },
  {
    name: 'Prometheus (Kubernetes service discovery)',
    image: /^prometheus\/prometheus$/,
    chart: /^prometheus-\d/,
  },
  {
    name: 'kube-state-metrics',
    image: /^kube-state-metrics\/kube-state-metrics$/,
    chart: /^kube-state-metrics-\d/,
  },
  { name: 'metrics-server', image: /^metrics-server\/metrics-server$/, chart: /^metrics-server-\d/ },
  { name: 'CoreDNS', image: /^(coredns\/)?coredns$/, chart: /^coredns-\d/ },
  {
    name: 'Calico',
    image: /^calico\/(node|kube-controllers|typha|apiserver)$/,
    chart: /^tigera-operator-v?\d/,
  },
  { name: 'Tigera operator', image: /^tigera\/operator$/ },
  {
    name: 'Cilium',
    image: /^cilium\/(cilium|operator(-generic|-aws|-azure)?|hubble-relay)$/,
    chart: /^cilium-\d/,
  },
  { name: 'Antrea', image: /^antrea\/antrea-(agent|controller)-ubuntu$|^antrea\/antrea-ubuntu$/ },
  { name: 'kube-proxy', image: /^kube-proxy(-[a-z0-9]+)?$/ },
  { name: 'Argo CD', image: /^argoproj\/argocd$/, chart: /^argo-cd-\d/ },
  { name: 'Flux', image: /^fluxcd\/[a-z-]+-controller$/, chart: /^flux2-\d/ },
  {
    name: 'Kyverno',
    image: /^kyverno\/(kyverno|background-controller|cleanup-controller|reports-controller)$/,
    chart: /^kyverno-\d/,
  },
  { name: 'Gatekeeper', image: /^openpolicyagent\/gatekeeper$/, chart: /^gatekeeper-\d/ },
  { name: 'external-dns', image: /^external-dns\/external-dns$/, chart: /^external-dns-\d/ },
  { name: 'cluster-autoscaler', image: /^autoscaling\/cluster-autoscaler$/, chart: /^cluster-autoscaler-\d/ },
  {
    name: 'AWS Load Balancer Controller',
    image: /^eks\/aws-load-balancer-controller$/,
    chart: /^aws-load-balancer-controller-\d/,
  },
  { name: 'Traefik', image: /^(library\/)?traefik$/, chart: /^traefik-\d/ },
  {
    name: 'Sealed Secrets',
    image: /^bitnami(labs)?\/sealed-secrets-controller$/,
    chart: /^sealed-secrets-\d/,
  },
  { name: 'Reloader', image: /^stakater\/reloader$/, chart: /^reloader-v?\d/ },
];

/** The known controllers among a workload's images and its chart label (names, deduplicated). */
export function knownControllersOf(images: readonly string[], chart: string | undefined): string[] {
  const found: string[] = [];
  for (const k of KNOWN_CONTROLLERS) {
    const byImage = images.find((i) => k.image.test(parseImage(i).repository));
    if (byImage) found.push(`runs ${k.name} (image ${byImage})`);
    else if (chart && k.chart?.test(chart)) found.push(`is ${k.name} (Helm chart ${chart})`);
  }
  return found;
}
