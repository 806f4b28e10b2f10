/**
 * A reference figure, not a floor kube-harden uses: the paginated LIST of all pods in the API server's protobuf
 * encoding (`Accept: application/vnd.kubernetes.protobuf`, as client-go asks for built-in types). Only the
 * envelope is read (the `k8s\0` magic, runtime.Unknown's `raw`, PodList's `metadata.continue`); the items are
 * counted, not decoded. It shows how much of the JSON LIST is the encoding (the server's and the client's), and
 * so how far below the JSON floor a client could get without JSON.
 *
 * Bench-only: client certificates and bearer tokens (inline or in files), nothing else. Wire format:
 * k8s.io/apimachinery/pkg/runtime/serializer/protobuf (magic + runtime.Unknown: 1 typeMeta, 2 raw), the PodList
 * message of k8s.io/api/core/v1/generated.proto (1 metadata: ListMeta, 2 items) and ListMeta of
 * k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto (3 continue).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import { resolveKubeconfig } from '../../src/cluster/kubeconfig.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

interface Cursor {
  pos: number;
}

function varint(buf: Buffer, at: Cursor): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = buf[at.pos++];
    if (byte === undefined) throw new Error('protobuf: truncated varint');
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return value;
    scale *= 128;
  }
}

/** Each field of one message: its number, and its bytes when length-delimited. Other wire types are skipped. */
function* fields(buf: Buffer): Generator<[number, Buffer | undefined]> {
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const tag = varint(buf, at);
    const wire = tag & 7;
    if (wire === 0) varint(buf, at);
    else if (wire === 1) at.pos += 8;
    else if (wire === 5) at.pos += 4;
    else if (wire === 2) {
      const length = varint(buf, at);
      yield [tag >>> 3, buf.subarray(at.pos, at.pos + length)];
      at.pos += length;
      continue;
    } else throw new Error(`protobuf: wire type ${wire}`);
    yield [tag >>> 3, undefined];
  }
}

/** One page: its items counted, its continue token. */
export function readPodListPage(body: Buffer): { items: number; continueToken: string } {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf answer');
  let raw: Buffer | undefined;
  for (const [field, bytes] of fields(body.subarray(4))) if (field === 2) raw = bytes;
  if (!raw) throw new Error('protobuf: no raw object in the envelope');
  let items = 0;
  let continueToken = '';
  for (const [field, bytes] of fields(raw)) {
    if (field === 2) items++;
    else if (field === 1 && bytes) {
      for (const [listField, value] of fields(bytes))
        if (listField === 3 && value) continueToken = value.toString();
    }
  }
  return { items, continueToken };
}

export interface ProtobufLister {
  listAllPods(pageSize: number): Promise<{ ms: number; count: number; bytes: number }>;
  close(): void;
}

export function protobufLister(kubeconfig: string): ProtobufLister {
  const { cluster, user } = resolveKubeconfig({ kubeconfig });
  const data = (inline: string | undefined, file: string | undefined) =>
    inline ? Buffer.from(inline, 'base64') : file ? readFileSync(file) : undefined;
  const agent = new https.Agent({
    keepAlive: true,
    ca: data(cluster.caData, cluster.caFile),
    cert: data(user.certData, user.certFile),
    key: data(user.keyData, user.keyFile),
    rejectUnauthorized: !cluster.skipTLSVerify,
  });
  const token = user.token;
  const server = new URL(cluster.server);
  const get = (path: string) =>
    new Promise<Buffer>((resolve, reject) => {
      const request = https.get(
        {
          host: server.hostname,
          port: server.port,
          path,
          agent,
          headers: {
            accept: 'application/vnd.kubernetes.protobuf',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const body = Buffer.concat(chunks);
            if (response.statusCode === 200) resolve(body);
            else reject(new Error(`protobuf LIST: HTTP ${response.statusCode}`));
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
    });
  return {
    async listAllPods(pageSize) {
      const started = performance.now();
      let count = 0;
      let bytes = 0;
      let continueToken = '';
      do {
        const query = new URLSearchParams({ limit: String(pageSize) });
        if (continueToken) query.set('continue', continueToken);
        const body = await get(`/api/v1/pods?${query}`);
        bytes += body.length;
        const page = readPodListPage(body);
        count += page.items;
        continueToken = page.continueToken;
      } while (continueToken);
      return { ms: performance.now() - started, count, bytes };
    },
    close: () => agent.destroy(),
  };
}
