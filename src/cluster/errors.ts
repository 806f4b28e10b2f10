import { ExitCode, type ExitCodeValue, KubeHardenError } from '../errors.js';

/** Why a cluster request failed. HTTP reasons follow metav1.StatusReason; the rest are transport failures. */
export type ClusterErrorReason =
  | 'Unauthorized' // 401
  | 'Forbidden' // 403
  | 'NotFound' // 404
  | 'Conflict' // 409 (optimistic lock or field-manager conflict)
  | 'Gone' // 410 (expired continue token)
  | 'Invalid' // 422
  | 'TooManyRequests' // 429 after retries
  | 'ServerError' // 5xx
  | 'BadRequest' // other 4xx
  | 'TLS'
  | 'Connection'
  | 'Timeout'
  | 'NotKubernetes' // the server answered, but not as a Kubernetes API server (an HTML page, broken JSON)
  | 'Unsupported'; // the source cannot do this (e.g. a dry-run on manifests)

/** One field-manager conflict of a server-side apply (409 with details.causes). */
export interface FieldConflict {
  manager: string;
  field: string;
  message: string;
}

export interface ClusterErrorInit {
  reason: ClusterErrorReason;
  status?: number;
  verb?: string;
  /** `deployments.apps`, `pods`. */
  resource?: string;
  namespace?: string;
  name?: string;
  hint?: string;
  /** The API server's Status message, verbatim. */
  serverMessage?: string;
  conflicts?: FieldConflict[];
  warnings?: string[];
  /** The admission webhook that denied the request (a policy's refusal, not a missing permission). */
  webhook?: string;
  cause?: unknown;
}

/** A failed cluster request, with what the operator can do about it. */
export class ClusterError extends KubeHardenError {
  readonly reason: ClusterErrorReason;
  readonly status: number | undefined;
  readonly verb: string | undefined;
  readonly resource: string | undefined;
  readonly namespace: string | undefined;
  readonly objectName: string | undefined;
  readonly serverMessage: string | undefined;
  readonly conflicts: FieldConflict[];
  readonly warnings: string[];
  readonly webhook: string | undefined;

  constructor(message: string, init: ClusterErrorInit) {
    super(message, init.hint, { cause: init.cause });
    this.reason = init.reason;
    this.status = init.status;
    this.verb = init.verb;
    this.resource = init.resource;
    this.namespace = init.namespace;
    this.objectName = init.name;
    this.serverMessage = init.serverMessage;
    this.conflicts = init.conflicts ?? [];
    this.warnings = init.warnings ?? [];
    this.webhook = init.webhook;
  }

  get exitCode(): ExitCodeValue {
    switch (this.reason) {
      case 'Unauthorized':
      case 'Forbidden':
        return ExitCode.auth;
      case 'TLS':
      case 'Connection':
      case 'Timeout':
      case 'NotKubernetes':
        return ExitCode.unreachable;
      case 'Conflict':
        return ExitCode.refused;
      default:
        return ExitCode.error;
    }
  }
}

export function isClusterError(error: unknown, reason?: ClusterErrorReason): error is ClusterError {
  return error instanceof ClusterError && (reason === undefined || error.reason === reason);
}
