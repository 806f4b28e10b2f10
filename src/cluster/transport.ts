/**
 * HTTP transport to the API server: authentication from the kubeconfig, a client-side rate limit, a LIST
 * concurrency gate, retries that honour Retry-After, per-request timeouts, `Warning` header capture and typed
 * errors. Request headers (credentials) are never logged or put into errors.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';
import { ClusterError, type ClusterErrorReason, type FieldConflict } from './errors.js';
import { type ExecConfig, type ExecCredential, pluginName, runExecPlugin } from './exec-credential.js';
import type { ResolvedKubeconfig } from './kubeconfig.js';
import { backoffMs, Semaphore, sleep, TokenBucket } from './limits.js';
import { type ListItems, splitList } from './list-body.js';
import { parseWarnings } from './warnings.js';

export interface TransportOptions {
  /** Client-side rate limit (default 20 requests/s, burst 40, like `--kube-api-qps`/`--kube-api-burst`). */
  qps?: number;
  burst?: number;
  /** At most this many LIST requests in flight (default 4). */
  maxConcurrentLists?: number;
  /** Per-request timeout in ms (default 30 s; `--request-timeout`). */
  requestTimeoutMs?: number;
  /** Credential-plugin timeout in ms (default 60 s; `KUBE_HARDEN_EXEC_TIMEOUT`). */
  execTimeoutMs?: number;
  /** Whether a credential plugin may prompt on this terminal. */
  interactive?: boolean;
  userAgent?: string;
  /** Upper bound on the total time spent waiting to retry one request (default 60 s). */
  maxRetryWaitMs?: number;
  /**
   * Where a credential plugin's stderr goes while it runs (device-code prompts, login URLs): default this
   * process's stderr, as kubectl does. The wizard can route it to its own screen.
   */
  onPluginStderr?: (text: string) => void;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** For messages and RBAC hints. */
  verb: string;
  resource?: string;
  namespace?: string;
  name?: string;
  isList?: boolean;
  /** A text answer (`/metrics`): a successful body is returned as a string, not parsed as JSON. */
  text?: boolean;
  /** Send once: no retry after a 429/503/504 or a dropped connection (a read the caller can do without). */
  once?: boolean;
  signal?: AbortSignal;
  /** Called when the request is handed to the socket (after the rate limiter and the list gate), per attempt. */
  onSent?: () => void;
}

export interface Response {
  status: number;
  /** The parsed body; of a list read item by item (`items` set), the list without its items. */
  body: unknown;
  /** A list's items, parsed one by one as they are iterated (see list-body.ts). */
  items?: ListItems;
  warnings: string[];
}

interface AuthState {
  headers: Record<string, string>;
  cert?: Buffer | string;
  key?: Buffer | string;
  /** The credential epoch this state was built from (see Transport.authEpoch). */
  epoch: number;
}

/** After a re-authentication that did not help, the next one waits this long. */
const REAUTH_COOLDOWN_MS = 30_000;

interface Outcome {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Credential epoch the request was authenticated with. */
  epoch: number;
}

/** How much longer than the server-side timeout of a write the client waits for the server's 504. */
const WRITE_GRACE_MS = 5_000;
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EAI_AGAIN']);
const TLS_CODES =
  /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO|ALTNAME|HOSTNAME_MISMATCH|ERR_OSSL|EPROTO/i;

export class Transport {
  readonly server: URL;
  private readonly bucket: TokenBucket;
  private readonly lists: Semaphore;
  private readonly opts: Required<Omit<TransportOptions, 'userAgent' | 'onPluginStderr'>> & {
    userAgent: string;
  };
  private readonly onPluginStderr: ((text: string) => void) | undefined;
  private agent: http.Agent | undefined;
  private execCredential: ExecCredential | undefined;
  private execInFlight: Promise<ExecCredential> | undefined;
  /**
   * Re-authentication on 401 (exec credentials only): the epoch counts credential invalidations, and a 401 may
   * invalidate the credential only while `reauthAllowed`, which a successful response with the new credential
   * restores (or, in a long session, REAUTH_COOLDOWN_MS). So within a command a plugin that keeps returning a
   * rejected token runs twice in all, however many requests were in flight, and a long session still renews a
   * credential that expires early, once per expiry.
   */
  private authEpoch = 0;
  private reauthAllowed = true;
  private lastReauthAt = Number.NEGATIVE_INFINITY;
  /** Test-only: crash (an unexpected error) once this many requests (or writes) were answered. */
  private readonly crash: { what: 'requests' | 'writes'; after: number } | undefined;
  private writeCount = 0;
  /** Credential-plugin re-runs caused by a 401 (for tests). */
  reauthCount = 0;
  /** Requests sent, for tests and benchmarks. */
  requestCount = 0;
  private readonly signals = new WeakSet<AbortSignal>();
  /** Responses 429 (or 503/504 on reads) that were retried. */
  throttledCount = 0;
  /** Reads retried after a refused or dropped connection. */
  reconnectCount = 0;
  /** Whether the server has answered any request yet. */
  private answered = false;

  constructor(
    private readonly config: ResolvedKubeconfig,
    options: TransportOptions = {},
  ) {
    this.server = new URL(config.cluster.server);
    this.opts = {
      qps: options.qps ?? 20,
      burst: options.burst ?? 40,
      maxConcurrentLists: options.maxConcurrentLists ?? 4,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      execTimeoutMs: options.execTimeoutMs ?? 60_000,
      interactive: options.interactive ?? false,
      userAgent: options.userAgent ?? 'kube-harden',
      maxRetryWaitMs: options.maxRetryWaitMs ?? 60_000,
    };
    this.onPluginStderr = options.onPluginStderr;
    this.crash = injectedCrash(process.env.KUBE_HARDEN_FAULT);
    this.bucket = new TokenBucket(this.opts.qps, this.opts.burst);
    this.lists = new Semaphore(this.opts.maxConcurrentLists);
  }

  get contextName(): string {
    return this.config.contextName;
  }

  close(): void {
    this.agent?.destroy();
  }

  /** Send one request, with retries for throttling and transient failures of reads. */
  async send(spec: RequestSpec): Promise<Response> {
    if (spec.signal && !this.signals.has(spec.signal)) {
      // Every request in flight (and one waiting for a rate-limit token) listens for abort on the caller's
      // signal, and removes its listener when done; an inventory has ~20 lists and ~15 access reviews in flight,
      // which would trip Node's leak warning at 11 ("MaxListenersExceededWarning") on stderr.
      this.signals.add(spec.signal);
      setMaxListeners(0, spec.signal);
    }
    const run = () => this.sendWithRetries(spec);
    return spec.isList ? this.lists.run(run) : run();
  }

  private async sendWithRetries(spec: RequestSpec): Promise<Response> {
    let waited = 0;
    let retriedUnauthorized = false;
    for (let attempt = 0; ; attempt++) {
      await this.bucket.take(spec.signal);
      let outcome: Outcome;
      try {
        outcome = await this.once(spec);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        const idempotent = spec.method === 'GET';
        // Once this server has answered, a refused or dropped connection is an API server restarting (an upgrade,
        // a crash): reads wait for it with backoff, within the retry budget. Before that, a refused connection is
        // a wrong address, and says so at once.
        const restarting = this.answered && (RETRYABLE_NETWORK.has(code) || code === 'ECONNREFUSED');
        const attempts = restarting ? 12 : 3;
        if (
          idempotent &&
          !spec.once &&
          (restarting || RETRYABLE_NETWORK.has(code)) &&
          attempt < attempts &&
          !spec.signal?.aborted
        ) {
          const wait = backoffMs(attempt, 250, 5_000);
          if (waited + wait <= this.opts.maxRetryWaitMs) {
            waited += wait;
            this.reconnectCount++;
            await sleep(wait, spec.signal);
            continue;
          }
        }
        throw this.transportError(error, spec);
      }
      this.answered = true;
      if (this.crash) {
        const write = spec.method !== 'GET' && spec.method !== 'POST' && !spec.query?.dryRun;
        if (write) this.writeCount++;
        const count = this.crash.what === 'writes' ? this.writeCount : this.requestCount;
        if (count > this.crash.after) {
          // Test-only fault injection (KUBE_HARDEN_FAULT): an unexpected error, as a bug would throw, in the middle
          // of a command, with the credentials and the response in scope.
          throw new Error(
            `injected crash (KUBE_HARDEN_FAULT=crash-after-${this.crash.what}:${this.crash.after}) at ${spec.verb} ${this.target(spec)}`,
          );
        }
      }
      const warnings = parseWarnings(outcome.headers.warning);
      const { status } = outcome;
      if (status === 401 && !retriedUnauthorized && this.mayReauthenticate(outcome.epoch)) {
        // The exec credential may have been revoked or expired early: fetch a new one, once.
        retriedUnauthorized = true;
        continue;
      }
      if (status !== 401 && outcome.epoch === this.authEpoch) this.reauthAllowed = true;
      const retryable =
        !spec.once && (status === 429 || (spec.method === 'GET' && (status === 503 || status === 504)));
      if (retryable && attempt < 6) {
        this.throttledCount++;
        const wait = Math.min(15_000, retryAfterMs(outcome.headers['retry-after']) ?? backoffMs(attempt));
        const jittered = Math.round(wait * (1 + Math.random() * 0.2));
        if (waited + jittered <= this.opts.maxRetryWaitMs) {
          waited += jittered;
          await sleep(jittered, spec.signal);
          continue;
        }
      }
      // The body is parsed once (a page of 500 pods is megabytes of JSON); a list's items one by one.
      const { foreign, body, items } = readAnswer(outcome, {
        list: spec.isList === true,
        text: spec.text === true,
      });
      if (foreign) throw this.notKubernetesError(foreign, status, spec, warnings);
      if (status >= 200 && status < 300) {
        if (!items) return { status, body, warnings };
        // Not the parser's message: it quotes the text around the error, which may be a Secret's data.
        const invalid = (index: number, error: Error) =>
          this.notKubernetesError(
            `a list whose item ${index + 1} is not valid JSON (${error.name})`,
            status,
            spec,
            warnings,
          );
        return { status, body, items: items.onInvalid(invalid), warnings };
      }
      throw this.httpError(status, body, spec, warnings);
    }
  }

  /**
   * After a 401 with credential epoch `epoch`: whether to retry the request (with a fresh exec credential). A
   * request that used an older credential than the current one just retries; the current credential is
   * invalidated at most once until a request with its successor succeeds.
   */
  private mayReauthenticate(epoch: number): boolean {
    if (!this.config.user.exec) return false;
    if (epoch < this.authEpoch) return true;
    // After a re-authentication whose credential was rejected too, wait a while before the next one (the
    // operator may log in again meanwhile in a long session); a command fails within that time.
    if (!this.reauthAllowed && performance.now() - this.lastReauthAt < REAUTH_COOLDOWN_MS) return false;
    this.reauthAllowed = false;
    this.lastReauthAt = performance.now();
    this.reauthCount++;
    this.authEpoch++;
    this.execCredential = undefined;
    this.execInFlight = undefined;
    return true;
  }

  private async auth(): Promise<AuthState> {
    const { user } = this.config;
    const headers: Record<string, string> = {};
    const state: AuthState = { headers, epoch: this.authEpoch };
    const cert = material(user.certFile, user.certData, 'client certificate');
    const key = material(user.keyFile, user.keyData, 'client key');
    if (cert) state.cert = cert;
    if (key) state.key = key;
    if (user.impersonateUser) headers['impersonate-user'] = user.impersonateUser;
    if (user.exec) {
      const cred = await this.credential(user.name, user.exec as ExecConfig);
      if (cred.token) headers.authorization = `Bearer ${cred.token}`;
      if (cred.clientCertificateData && cred.clientKeyData) {
        state.cert = cred.clientCertificateData;
        state.key = cred.clientKeyData;
      }
    } else if (user.token) {
      headers.authorization = `Bearer ${user.token}`;
    } else if (user.username) {
      headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    } else if (user.authProvider) {
      // OIDC and other auth providers: client-node knows them.
      const opts: { headers?: Record<string, string> } = {};
      try {
        await (await this.config.kubeConfig()).applyToHTTPSOptions(opts as never);
      } catch (error) {
        throw new ConfigError(
          `the auth provider of user "${user.name}" failed: ${(error as Error).message}`,
          'log in again, or switch the kubeconfig to an exec credential plugin',
        );
      }
      for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = String(v);
    }
    return state;
  }

  private async credential(userName: string, exec: ExecConfig): Promise<ExecCredential> {
    const cached = this.execCredential;
    if (cached && (cached.expiresAt === undefined || cached.expiresAt > Date.now() + 5_000)) return cached;
    // One plugin run at a time, shared by concurrent requests.
    const epoch = this.authEpoch;
    if (!this.execInFlight) {
      const run: Promise<ExecCredential> = runExecPlugin(userName, exec, {
        timeoutMs: this.opts.execTimeoutMs,
        server: this.server.toString(),
        interactive: this.opts.interactive,
        ...(this.onPluginStderr ? { onStderr: this.onPluginStderr } : {}),
      }).finally(() => {
        if (this.execInFlight === run) this.execInFlight = undefined;
      });
      this.execInFlight = run;
    }
    const credential = await this.execInFlight;
    // A 401 while the plugin ran invalidated what it was asked for: do not cache it over the invalidation.
    if (epoch === this.authEpoch) this.execCredential = credential;
    return credential;
  }

  private getAgent(auth: AuthState): http.Agent {
    // Client certificates from exec plugins can rotate; rebuild the agent when they do.
    const key =
      auth.cert || auth.key
        ? createHash('sha256')
            .update(auth.cert ?? '')
            .update('\0')
            .update(auth.key ?? '')
            .digest('hex')
        : '';
    if (this.agent && (this.agent as { khKey?: string }).khKey === key) return this.agent;
    this.agent?.destroy();
    const { cluster } = this.config;
    let agent: http.Agent;
    if (this.server.protocol === 'http:') {
      agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    } else {
      const options: https.AgentOptions = { keepAlive: true, maxSockets: 8 };
      const ca = material(cluster.caFile, cluster.caData, 'certificate authority');
      if (cluster.skipTLSVerify) options.rejectUnauthorized = false;
      if (cluster.tlsServerName) options.servername = cluster.tlsServerName;
      // CA, client certificate and key go in a secure context, not in the agent's options: Node's
      // NODE_DEBUG=https,tls,net prints those options for every connection (a key given as a string in full).
      if (ca || auth.cert || auth.key) {
        options.secureContext = createSecureContext({
          ...(ca ? { ca } : {}),
          ...(auth.cert ? { cert: auth.cert } : {}),
          ...(auth.key ? { key: auth.key } : {}),
        });
      }
      agent = new https.Agent(options);
    }
    (agent as { khKey?: string }).khKey = key;
    this.agent = agent;
    return agent;
  }

  /** The size of the last large body of each list (path and page size): the next page's buffer starts there. */
  private readonly bodyHints = new Map<string, number>();

  private async once(spec: RequestSpec): Promise<Outcome> {
    const auth = await this.auth();
    const agent = this.getAgent(auth);
    const url = new URL(
      spec.path.replace(/^\//, ''),
      this.server.href.endsWith('/') ? this.server : `${this.server}/`,
    );
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    // A write tells the API server how long the client waits (as kubectl --request-timeout does): past it, the
    // server stops the request (admission webhooks included) and answers 504, instead of finishing a write the
    // client has given up on. The client waits a little longer, to read that answer.
    const write = spec.method !== 'GET';
    if (write && !url.searchParams.has('timeout')) {
      url.searchParams.set('timeout', `${Math.max(1, Math.ceil(this.opts.requestTimeoutMs / 1000))}s`);
    }
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
    // Credentials are set on the request after it is created, never in its options: Node's NODE_DEBUG=http
    // prints the options (headers included) of every connection it opens, as client-go once logged bearer tokens
    // at high verbosity (CVE-2019-11250).
    const headers: Record<string, string> = {
      accept: spec.text ? 'text/plain' : 'application/json',
      'user-agent': this.opts.userAgent,
    };
    if (payload) {
      headers['content-type'] = spec.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    this.requestCount++;
    const sentAt = performance.now();
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, {
        method: spec.method,
        headers,
        agent,
        timeout: this.opts.requestTimeoutMs + (write ? WRITE_GRACE_MS : 0),
      });
      for (const [name, value] of Object.entries(auth.headers)) req.setHeader(name, value);
      const onAbort = () => req.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
      spec.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('request timed out'), { code: 'KH_TIMEOUT' })),
      );
      req.on('error', (error: Error) => {
        spec.signal?.removeEventListener('abort', onAbort);
        reject(Object.assign(error, { khElapsedMs: performance.now() - sentAt }));
      });
      req.on('response', (res: http.IncomingMessage) => {
        const hintKey = spec.isList ? `${spec.path}?${spec.query?.limit ?? ''}` : undefined;
        const body = new BodyBuffer(hintKey ? this.bodyHints.get(hintKey) : undefined);
        res.on('data', (c: Buffer) => body.push(c));
        res.on('error', reject);
        res.on('end', () => {
          spec.signal?.removeEventListener('abort', onAbort);
          const bytes = body.bytes();
          if (hintKey && bytes.length > BodyBuffer.SMALL) this.bodyHints.set(hintKey, bytes.length);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, epoch: auth.epoch });
        });
      });
      req.end(payload);
      spec.onSent?.();
    });
  }

  private target(spec: RequestSpec): string {
    const what = spec.resource ?? spec.path;
    const named = spec.name ? `${what}/${spec.name}` : what;
    if (spec.namespace) return `${named} in namespace ${spec.namespace}`;
    return spec.isList && spec.resource ? `${named} in all namespaces` : named;
  }

  private transportError(error: unknown, spec: RequestSpec): Error {
    if (error instanceof ConfigError || error instanceof ClusterError) return error;
    const e = error as NodeJS.ErrnoException;
    const server = this.server.origin;
    if (spec.signal?.aborted || e.code === 'ABORT_ERR') return spec.signal?.reason ?? e;
    if (e.code === 'KH_TIMEOUT') {
      return new ClusterError(
        `the API server at ${server} did not answer within ${Math.round(this.opts.requestTimeoutMs / 1000)}s (${spec.verb} ${this.target(spec)})`,
        {
          reason: 'Timeout',
          verb: spec.verb,
          hint:
            spec.method === 'GET'
              ? 'the server may be overloaded or unreachable; retry, or raise --request-timeout'
              : WRITE_TIMEOUT_HINT,
          cause: e,
        },
      );
    }
    const seconds = Math.max(1, Math.ceil(this.opts.requestTimeoutMs / 1000));
    const elapsed = (e as { khElapsedMs?: number }).khElapsedMs ?? 0;
    if (
      spec.method !== 'GET' &&
      (e.code === 'ECONNRESET' || e.message === 'socket hang up') &&
      elapsed >= seconds * 1000 - 250
    ) {
      // The server-side timeout of the write fired while the server was already answering: it aborts the
      // connection then, instead of a 504 (apiserver filters/timeout.go).
      return new ClusterError(
        `the API server did not complete ${spec.verb} ${this.target(spec)} within ${seconds}s (it closed the connection at the request timeout)`,
        { reason: 'Timeout', verb: spec.verb, hint: WRITE_TIMEOUT_HINT, cause: e },
      );
    }
    if (TLS_CODES.test(e.code ?? '') || TLS_CODES.test(e.message)) {
      return new ClusterError(`TLS handshake with ${server} failed: ${e.message}`, {
        reason: 'TLS',
        verb: spec.verb,
        hint: `check certificate-authority of cluster "${this.config.cluster.name}" in the kubeconfig (is it the right cluster?)`,
        cause: e,
      });
    }
    const why =
      e.code === 'ECONNREFUSED'
        ? 'connection refused'
        : e.code === 'ENOTFOUND'
          ? 'host not found'
          : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH'
            ? 'host unreachable'
            : e.code === 'ECONNRESET'
              ? 'connection reset'
              : e.message;
    return new ClusterError(`cannot reach the API server at ${server}: ${why}`, {
      reason: 'Connection',
      verb: spec.verb,
      hint: `is the cluster running? check --context (now "${this.config.contextName}") and --kubeconfig`,
      cause: e,
    });
  }

  /** The server answered, but not as an API server does: a web page, a login redirect, broken JSON. */
  private notKubernetesError(
    what: string,
    status: number,
    spec: RequestSpec,
    warnings: string[],
  ): ClusterError {
    const ctx = this.config.contextName;
    return new ClusterError(
      `${this.server.origin} is not a Kubernetes API server: it answered ${spec.method} ${spec.path} with ${what}`,
      {
        reason: 'NotKubernetes',
        status,
        verb: spec.verb,
        warnings,
        hint:
          `check the server URL of cluster "${this.config.cluster.name}" in the kubeconfig (context "${ctx}"): ` +
          'it may point at a web page, a login proxy or a load balancer instead of the API server; ' +
          `\`kubectl --context ${ctx} get --raw /version\` should print the server's version as JSON`,
      },
    );
  }

  private httpError(status: number, body: unknown, spec: RequestSpec, warnings: string[]): ClusterError {
    const st = (body && typeof body === 'object' ? body : {}) as {
      message?: string;
      reason?: string;
      // metav1.StatusCause serializes its Type as "reason".
      details?: { causes?: Array<{ reason?: string; message?: string; field?: string }> };
    };
    const serverMessage = typeof st.message === 'string' ? st.message : undefined;
    const base = {
      status,
      verb: spec.verb,
      ...(spec.resource ? { resource: spec.resource } : {}),
      ...(spec.namespace ? { namespace: spec.namespace } : {}),
      ...(spec.name ? { name: spec.name } : {}),
      ...(serverMessage ? { serverMessage } : {}),
      warnings,
    };
    const target = this.target(spec);
    // An admission webhook said no (nothing was written). Without a code in its answer the API server uses 400;
    // built-in admission plugins (PodSecurity, quota) answer 403. Either way it is this object's refusal.
    // A ValidatingAdmissionPolicy's Deny says "<resource> "<name>" is forbidden: ValidatingAdmissionPolicy 'P' with
    // binding 'B' denied request: …" (k8s.io/apiserver admission/plugin/policy/validating): a policy's refusal too,
    // never a missing permission.
    const policy = /ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied request/.exec(
      serverMessage ?? '',
    );
    const deniedBy =
      /^admission webhook "([^"]+)" denied the request/.exec(serverMessage ?? '')?.[1] ??
      (policy ? `ValidatingAdmissionPolicy ${policy[1]}` : undefined);
    const reasonOf = (): ClusterErrorReason => {
      // Server-side apply reports schema errors (unknown fields under strict validation) as 500
      // "failed to create typed patch object"; they are the caller's invalid object, not a server failure.
      if (
        status === 500 &&
        /failed to create typed patch object|field not declared in schema/.test(serverMessage ?? '')
      ) {
        return 'Invalid';
      }
      if (status === 401) return 'Unauthorized';
      if (status === 403 || deniedBy) return 'Forbidden';
      if (status === 504) return 'Timeout';
      if (status === 404) return 'NotFound';
      if (status === 409) return 'Conflict';
      if (status === 410) return 'Gone';
      if (status === 422) return 'Invalid';
      if (status === 429) return 'TooManyRequests';
      if (status >= 500) return 'ServerError';
      return 'BadRequest';
    };
    const reason = reasonOf();
    switch (reason) {
      case 'Unauthorized':
        return new ClusterError(
          `the API server rejected the credentials of context "${this.config.contextName}" (401 Unauthorized)`,
          {
            ...base,
            reason,
            hint: this.config.user.exec
              ? `the credential plugin "${pluginName(this.config.user.exec as ExecConfig)}" was run again and its new credential was rejected too: log in again with it (or your cloud CLI), or check the user entry in the kubeconfig`
              : 'log in again or refresh the token; check the user entry in the kubeconfig',
          },
        );
      case 'Forbidden': {
        if (deniedBy) {
          const why = (serverMessage ?? '')
            .replace(/^admission webhook "[^"]+" denied the request:?\s*/, '')
            .replace(/^.*?ValidatingAdmissionPolicy '[^']+' with binding '[^']+' denied request:?\s*/, '');
          const who = policy
            ? `ValidatingAdmissionPolicy "${policy[1]}" (binding "${policy[2]}")`
            : `admission webhook "${deniedBy}"`;
          return new ClusterError(`${who} denied ${spec.verb} ${target}${why ? `: ${why}` : ''}`, {
            ...base,
            reason,
            webhook: deniedBy,
            hint: `nothing was written; ${policy ? 'the admission policy' : "the webhook's policy"} refuses this change: ask its owner, or leave ${spec.name ?? 'the object'} out of this step`,
          });
        }
        const can = `kubectl auth can-i ${spec.verb} ${spec.resource ?? ''}${spec.namespace ? ` -n ${spec.namespace}` : spec.isList ? ' -A' : ''}`;
        return new ClusterError(
          `forbidden: cannot ${spec.verb} ${target}${serverMessage ? ` (${serverMessage})` : ''}`,
          {
            ...base,
            reason,
            hint: `ask a cluster admin for "${spec.verb}" on ${spec.resource ?? 'this resource'}; check with: ${can}`,
          },
        );
      }
      case 'NotFound':
        return new ClusterError(`not found: ${target}`, {
          ...base,
          reason,
          hint: 'check the name and namespace',
        });
      case 'Conflict': {
        const conflicts: FieldConflict[] = (st.details?.causes ?? [])
          .filter((c) => c.reason === 'FieldManagerConflict')
          .map((c) => ({
            manager: /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? 'unknown',
            field: c.field ?? '',
            message: c.message ?? '',
          }));
        if (conflicts.length > 0) {
          const list = conflicts.map((c) => `${c.field} (owned by "${c.manager}")`).join(', ');
          return new ClusterError(`field conflict on ${target}: ${list}`, {
            ...base,
            reason,
            conflicts,
            hint: 'another field manager owns these fields; skip the change, or take the fields over explicitly',
          });
        }
        return new ClusterError(
          `conflict: ${target} was modified by someone else${serverMessage ? ` (${serverMessage})` : ''}`,
          {
            ...base,
            reason,
            hint: 'preview again to see the current object',
          },
        );
      }
      case 'Gone':
        return new ClusterError(`the list of ${target} expired before it was read completely (410 Gone)`, {
          ...base,
          reason,
          hint: 'the cluster is busy or the link is slow; retry',
        });
      case 'Invalid':
        return new ClusterError(
          `the API server rejected ${target} as invalid: ${serverMessage ?? 'no details'}`,
          {
            ...base,
            reason,
            hint: 'check the object against the API version the server serves (strict field validation rejects unknown fields)',
          },
        );
      case 'TooManyRequests':
        return new ClusterError(`the API server kept throttling requests (429) for ${target}`, {
          ...base,
          reason,
          hint: 'the cluster is overloaded (API Priority and Fairness); retry later or lower --qps',
        });
      case 'Timeout':
        return new ClusterError(
          `the API server did not complete ${spec.verb} ${target} ${spec.method === 'GET' ? 'in time' : `within ${Math.max(1, Math.ceil(this.opts.requestTimeoutMs / 1000))}s`} (${status}${serverMessage ? `: ${serverMessage}` : ''})`,
          {
            ...base,
            reason,
            hint: spec.method === 'GET' ? 'the server is overloaded; retry later' : WRITE_TIMEOUT_HINT,
          },
        );
      case 'ServerError': {
        const webhook = /failed calling webhook "([^"]+)"/.exec(serverMessage ?? '')?.[1];
        if (webhook) {
          return new ClusterError(
            `admission webhook "${webhook}" failed on ${spec.verb} ${target}: ${serverMessage}`,
            {
              ...base,
              reason,
              hint: 'the webhook is down or too slow and its failurePolicy is Fail; nothing was written: fix or remove the webhook, then retry',
            },
          );
        }
        return new ClusterError(
          `the API server failed with ${status} on ${spec.verb} ${target}${serverMessage ? `: ${serverMessage}` : ''}`,
          {
            ...base,
            reason,
            hint: 'retry; if it persists, check the API server and admission webhooks',
          },
        );
      }
      default:
        return new ClusterError(
          `the API server refused ${spec.verb} ${target} (${status})${serverMessage ? `: ${serverMessage}` : ''}`,
          {
            ...base,
            reason,
          },
        );
    }
  }
}

/**
 * `KUBE_HARDEN_FAULT=crash-after-requests:N` or `crash-after-writes:N`, for tests only (the token and Secret
 * canary tests): the response to request (or write: PATCH, PUT or DELETE that is no dry-run) N+1 makes the
 * command crash with an unexpected error, the path a bug would take. `crash-after-writes:0` crashes right after
 * the first write reached the server, before its result is journaled.
 */
function injectedCrash(
  fault: string | undefined,
): { what: 'requests' | 'writes'; after: number } | undefined {
  const m = /^crash-after-(requests|writes):(\d+)$/.exec(fault ?? '');
  return m ? { what: m[1] as 'requests' | 'writes', after: Number(m[2]) } : undefined;
}

const WRITE_TIMEOUT_HINT =
  'admission webhooks on this object may be slow or down: their timeouts add up (mutating webhooks run one after another), even with failurePolicy Ignore. kube-harden does not resend writes; preview again to see whether it was applied, check `kubectl get mutatingwebhookconfigurations,validatingwebhookconfigurations`, or raise --request-timeout';

/**
 * A response body, copied into one buffer as it arrives. A page of 500 pods comes in ~40 socket chunks; kept until
 * the end and then concatenated, they outlived the young generation while the page was read, and their memory
 * (outside the JS heap) waited for a full GC: with lists read item by item full GCs are rare, and the report's RSS
 * carried tens of MB of dead chunks. Copied at once, each chunk dies young; a large body takes one allocation when
 * its size is known from the page before (`hint`), else it doubles as it grows.
 */
class BodyBuffer {
  /** Up to this size, chunks are kept and joined at the end (most answers are a few KB). */
  static readonly SMALL = 64 * 1024;
  private chunks: Buffer[] | undefined = [];
  private buffer: Buffer | undefined;
  private length = 0;

  constructor(private readonly hint: number | undefined) {}

  push(chunk: Buffer): void {
    const end = this.length + chunk.length;
    if (this.chunks && end <= BodyBuffer.SMALL) {
      this.chunks.push(chunk);
      this.length = end;
      return;
    }
    if (!this.buffer || end > this.buffer.length) {
      const size = Math.max(end, this.buffer ? this.buffer.length * 2 : Math.ceil((this.hint ?? 0) * 1.1));
      const next = Buffer.allocUnsafeSlow(size);
      if (this.buffer) this.buffer.copy(next, 0, 0, this.length);
      else if (this.chunks) Buffer.concat(this.chunks, this.length).copy(next);
      this.buffer = next;
      this.chunks = undefined;
    }
    chunk.copy(this.buffer, this.length);
    this.length = end;
  }

  bytes(): Buffer {
    if (this.buffer) return this.buffer.subarray(0, this.length);
    return Buffer.concat(this.chunks ?? [], this.length);
  }
}

/** A kubeconfig `*-data` (base64) or `*` (file path) value. */
function material(file: string | undefined, data: string | undefined, what: string): Buffer | undefined {
  if (file) {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(
        `cannot read the ${what} file ${file}: ${(error as Error).message}`,
        'fix the path in the kubeconfig',
      );
    }
  }
  return data ? Buffer.from(data, 'base64') : undefined;
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/**
 * Why a response cannot have come from a Kubernetes API server, or undefined when it may have. The API server
 * answers every request kube-harden sends with JSON (`accept: application/json`), errors included, and never
 * redirects. 5xx answers are left alone: a proxy in front of a real API server may fail with its own page.
 */
export function foreignAnswer(outcome: {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}): string | undefined {
  return readAnswer(outcome).foreign;
}

/**
 * `foreignAnswer`, and the parsed body (JSON parsed once; undefined when empty or not JSON). With `list`, a
 * successful list body is split instead (list-body.ts): `body` is the list without its items, `items` parses them
 * one by one; a body that does not split is parsed whole. With `text`, a successful body is the text as it came.
 */
export function readAnswer(
  outcome: { status: number; headers: http.IncomingHttpHeaders; body: Buffer },
  options: { list?: boolean; text?: boolean } = {},
): {
  foreign: string | undefined;
  body: unknown;
  items?: ListItems;
} {
  const { status, headers, body } = outcome;
  const type = String(headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (status >= 300 && status < 400) {
    // Only where it points, never its query (a login redirect may carry state).
    const location = typeof headers.location === 'string' ? headers.location.replace(/[?#].*$/, '') : '';
    return { foreign: `a redirect (${status})${location ? ` to ${location}` : ''}`, body: undefined };
  }
  if (status >= 500) return { foreign: undefined, body: parseBody(body) };
  const start = body.subarray(0, 512).toString('utf8').trimStart().toLowerCase();
  if (
    type === 'text/html' ||
    type === 'application/xhtml+xml' ||
    /^<(!doctype html|html|head|body)\b/.test(start)
  ) {
    return { foreign: `an HTML page (HTTP ${status}${type ? `, ${type}` : ''})`, body: undefined };
  }
  if (options.text && status >= 200 && status < 300)
    return { foreign: undefined, body: body.toString('utf8') };
  if (status >= 200 && status < 300 && body.length > 0) {
    const split = options.list ? splitList(body) : undefined;
    if (split) return { foreign: undefined, body: split.envelope, items: split.items };
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return {
        foreign: `a body that is not valid JSON (HTTP ${status}${type ? `, ${type}` : ''}, ${body.length} bytes)`,
        body: undefined,
      };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { foreign: `JSON that is not an object (HTTP ${status})`, body: undefined };
    }
    return { foreign: undefined, body: value };
  }
  return { foreign: undefined, body: parseBody(body) };
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
