// A thin client of control's REST API (docs/control-api.md): bearer token, JSON bodies,
// If-Match and ETag, and every failure turned into a CliError with its exit code. It uses
// undici's own fetch: Node's global fetch takes no CA, and a dispatcher of another undici
// version than the one inside Node is not guaranteed to work with it.
import type { ApiErrorBody } from '#control-api';
import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { CliError, kindOfStatus, type FieldError } from './exit-codes';

export interface ControlRequest {
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  /** Revision the change is based on (`If-Match: "<n>"`). */
  readonly ifMatch?: number;
}

export interface ControlAnswer<T> {
  readonly status: number;
  /** The revision named by the answer's ETag, when there is one. */
  readonly etag: number | null;
  readonly body: T;
}

export class ControlClient {
  /** Undefined: undici's default, which trusts the system's CAs. */
  private readonly dispatcher: Dispatcher | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
    private readonly timeoutMs: number,
    /** PEM of the CA(s) that control's HTTPS certificate must chain to, instead of the system's. */
    ca: string | null = null,
  ) {
    this.dispatcher = ca === null ? undefined : new Agent({ connect: { ca } });
  }

  get<T>(path: string, request: ControlRequest = {}): Promise<ControlAnswer<T>> {
    return this.send<T>('GET', path, request);
  }

  /** GET that answers null on 404 instead of failing. */
  async find<T>(path: string, request: ControlRequest = {}): Promise<ControlAnswer<T> | null> {
    try {
      return await this.get<T>(path, request);
    } catch (err) {
      if (err instanceof CliError && err.details.status === 404) return null;
      throw err;
    }
  }

  put<T>(path: string, request: ControlRequest = {}): Promise<ControlAnswer<T>> {
    return this.send<T>('PUT', path, request);
  }

  patch<T>(path: string, request: ControlRequest = {}): Promise<ControlAnswer<T>> {
    return this.send<T>('PATCH', path, request);
  }

  post<T>(path: string, request: ControlRequest = {}): Promise<ControlAnswer<T>> {
    return this.send<T>('POST', path, request);
  }

  delete<T>(path: string, request: ControlRequest = {}): Promise<ControlAnswer<T>> {
    return this.send<T>('DELETE', path, request);
  }

  async send<T>(method: string, path: string, request: ControlRequest): Promise<ControlAnswer<T>> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    if (request.ifMatch !== undefined) headers['If-Match'] = `"${request.ifMatch}"`;

    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(this.timeoutMs),
        dispatcher: this.dispatcher,
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    const text = await response.text().catch(() => '');
    const etag = parseEtag(response.headers.get('etag'));
    if (!response.ok) throw this.refusal(method, url, response.status, text);
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliError('internal', `control answered ${method} ${url.pathname} with non-JSON`, {
          status: response.status,
        });
      }
    }
    return { status: response.status, etag, body: body as T };
  }

  private unreachable(err: unknown): CliError {
    const error = err as Error & { cause?: { code?: string; message?: string } };
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return new CliError(
        'unavailable',
        `control at ${this.baseUrl} did not answer within ${this.timeoutMs / 1000} s`,
      );
    }
    const reason = error.cause?.code ?? error.cause?.message ?? error.message;
    return new CliError('unavailable', `control is unreachable at ${this.baseUrl} (${reason})`, {
      hint: CERTIFICATE_ERROR.test(error.cause?.code ?? '')
        ? "control's certificate is not trusted: --ca-file or MERIDIAN_CA_FILE names the CA that signed it"
        : 'is control running? npm start runs a local one; --control or MERIDIAN_CONTROL_URL points elsewhere',
    });
  }

  private refusal(method: string, url: URL, status: number, text: string): CliError {
    let body: Partial<ApiErrorBody> = {};
    try {
      body = JSON.parse(text) as ApiErrorBody;
    } catch {
      // not our error shape (a proxy in between, say)
    }
    const raw = body.message;
    const message = (Array.isArray(raw) ? raw.join('; ') : raw) || body.error || `HTTP ${status}`;
    const errors: FieldError[] = [...(body.errors ?? [])];
    let hint: string | undefined;
    if (status === 401) {
      hint = this.token
        ? 'the token was refused: check --token or MERIDIAN_TOKEN'
        : 'pass --token or set MERIDIAN_TOKEN; npm start keeps one in .local/admin-token';
    } else if (status === 403) {
      hint = 'this token is read-only';
    }
    return new CliError(kindOfStatus(status), `${method} ${url.pathname}: ${status} ${message}`, {
      status,
      errors,
      hint,
    });
  }
}

/** OpenSSL's verification failures (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED...) and Node's name check. */
const CERTIFICATE_ERROR = /CERT|UNABLE_TO_VERIFY|HOSTNAME_MISMATCH/;

function parseEtag(raw: string | null): number | null {
  if (!raw) return null;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(raw.trim());
  return match ? Number(match[1]) : null;
}
