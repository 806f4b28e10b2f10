/** `kube-harden preflight`: who am I on which cluster, and may I read what the inventory needs? */
import { connectionFlags, outputFlag } from '../cli/args.js';
import { paint } from '../cli/output.js';
import { inventoryAccessChecks } from '../inventory/access.js';
import { connectLive } from '../store/session.js';
import { sessionOptions } from './common.js';
import type { Command } from './types.js';

export const preflight: Command = {
  spec: {
    name: 'preflight',
    summary: 'Check the connection, identity and permissions before a run',
    usage: '[flags]',
    description: `Connects with the kubeconfig context, prints the server version and who you are (SelfSubjectReview), and
checks with SelfSubjectAccessReviews whether you may read what the inventory needs.`,
    flags: [...connectionFlags, outputFlag(['text', 'json'])],
    maxPositionals: 0,
    examples: ['kube-harden preflight --context staging'],
  },
  async run({ parsed, output, signal }) {
    const cluster = connectLive(sessionOptions(parsed.flags));
    try {
      const version = await cluster.serverVersion(signal);
      const who = await cluster.whoAmI(signal);
      const decisions = await cluster.accessReview(inventoryAccessChecks(), signal);
      const source = cluster.source.kind === 'cluster' ? cluster.source : undefined;
      if (parsed.flags.output === 'json') {
        output.out.write(
          `${JSON.stringify(
            {
              context: source?.context,
              server: source?.server,
              serverVersion: version?.gitVersion ?? null,
              user: who ?? null,
              access: decisions.map((d) => ({
                verb: d.verb,
                group: d.group,
                resource: d.resource,
                allowed: d.allowed,
              })),
            },
            null,
            2,
          )}\n`,
        );
      } else {
        const c = output.color;
        output.out.write(
          `context:  ${source?.context}\nserver:   ${source?.server}\nversion:  ${version?.gitVersion ?? 'unknown'}\n`,
        );
        output.out.write(
          `user:     ${who ? `${who.username}${who.groups.length ? ` (groups: ${who.groups.join(', ')})` : ''}` : 'unknown'}\n\n`,
        );
        output.out.write('inventory permissions (cluster-wide):\n');
        for (const d of decisions) {
          const res = d.group ? `${d.resource}.${d.group}` : d.resource;
          output.out.write(
            `  ${d.allowed ? paint(c, 'green', 'yes') : paint(c, 'red', 'no ')}  ${d.verb} ${res}\n`,
          );
        }
        const denied = decisions.filter((d) => !d.allowed).length;
        if (denied > 0) {
          output.out.write(
            `\n${denied} permission(s) missing: the inventory will report those resources as unknown.\n`,
          );
        }
      }
      return 0;
    } finally {
      cluster.close();
    }
  },
};
