import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Fault, FaultSpec, IdTokenFault, RecordedRequest } from './types';
import { JSON_UTF8 } from './wire';

export const CONTROL_PREFIX = '/__emulator';
const RECORDED_REQUESTS = 200;

const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

/**
 * A fault that replaces or delays the answer (as opposed to `omitIdToken` and `idToken`, which the token endpoint
 * applies).
 */
const shapesResponse = (f: Fault): boolean =>
  f.status !== undefined || Boolean(f.hang) || Boolean(f.invalidJson) || (f.delayMs ?? 0) > 0;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkIdTokenFault(f: IdTokenFault): void {
  if (!isObject(f)) throw new Error('idToken must be an object: { claims?, header?, signature? }');
  if (f.claims !== undefined && !isObject(f.claims)) throw new Error('idToken.claims must be an object');
  if (f.header !== undefined && !isObject(f.header)) throw new Error('idToken.header must be an object');
  if (f.signature !== undefined && f.signature !== 'none' && f.signature !== 'invalid') {
    throw new Error(`idToken.signature must be "none" or "invalid", not ${JSON.stringify(f.signature)}`);
  }
}

/** Injected faults, call counts and the recent-request log, applied by Fastify hooks to every non-control path. */
export class FaultRegistry {
  readonly faults: Fault[] = [];
  readonly calls = new Map<string, number>();
  private readonly hanging = new Set<FastifyRequest>();
  private recorded: RecordedRequest[] = [];

  add(spec: FaultSpec): Fault {
    const path = spec.path ?? spec.endpoint;
    if (!path || !path.startsWith('/'))
      throw new Error('a fault needs the endpoint path, e.g. { path: "/oauth/token" }');
    if (spec.status !== undefined && (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599)) {
      throw new Error(`not an HTTP status: ${spec.status}`);
    }
    if (spec.idToken !== undefined) checkIdTokenFault(spec.idToken);
    const fault: Fault = { ...spec, path, method: spec.method?.toUpperCase(), id: randomBytes(6).toString('hex') };
    this.faults.push(fault);
    return fault;
  }

  remove(id: string): boolean {
    const i = this.faults.findIndex((f) => f.id === id);
    if (i !== -1) this.faults.splice(i, 1);
    return i !== -1;
  }

  /** Removes every fault and lets go of requests held by `hang` (their connections are destroyed). */
  clear(): void {
    this.faults.length = 0;
    for (const request of this.hanging) request.raw.socket?.destroy();
    this.hanging.clear();
  }

  resetCounts(): void {
    this.calls.clear();
    this.recorded = [];
  }

  count(method: string, path: string): number {
    return this.calls.get(`${method.toUpperCase()} ${path}`) ?? 0;
  }

  requests(filter: { method?: string; path?: string } = {}): RecordedRequest[] {
    return this.recorded.filter(
      (r) => (!filter.method || r.method === filter.method.toUpperCase()) && (!filter.path || r.path === filter.path),
    );
  }

  /** Finds the first fault for this request that `want` accepts, and uses up one of its `times`. */
  private take(method: string, path: string, want: (f: Fault) => boolean): Fault | undefined {
    const fault = this.faults.find((f) => f.path === path && (!f.method || f.method === method) && want(f));
    if (fault && fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) this.remove(fault.id);
    }
    return fault;
  }

  /**
   * What the token endpoint should do to the id_token of this answer: leave it out (`omitIdToken`), get it
   * wrong (`idToken`), or nothing (undefined).
   */
  takeIdTokenFault(method: string, path: string): Pick<Fault, 'omitIdToken' | 'idToken'> | undefined {
    if (!this.faults.length) return undefined;
    return this.take(method, path, (f) => (Boolean(f.omitIdToken) || f.idToken !== undefined) && !shapesResponse(f));
  }

  /** Counts a call of `METHOD /path` (done by the hooks, and by the server's token fast path). */
  countCall(method: string, path: string): void {
    const key = `${method} ${path}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  record(request: Omit<RecordedRequest, 'at'>): void {
    if (this.recorded.length >= RECORDED_REQUESTS) this.recorded.shift();
    this.recorded.push({ at: Date.now(), ...request });
  }

  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => {
      const path = pathOf(request.url);
      if (path.startsWith(CONTROL_PREFIX)) return;
      this.countCall(request.method, path);
      if (!this.faults.length) return;
      const fault = this.take(request.method, path, shapesResponse);
      if (!fault) return;
      if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.hang) {
        this.hanging.add(request);
        request.raw.once('close', () => this.hanging.delete(request));
        return new Promise<void>(() => undefined);
      }
      if (fault.invalidJson) {
        return reply.code(200).header('content-type', JSON_UTF8).send('{"this is not": json');
      }
      if (fault.status !== undefined) {
        for (const [name, value] of Object.entries(fault.headers ?? {})) void reply.header(name, value);
        const body =
          fault.body === undefined ? '' : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
        if (fault.body !== undefined && typeof fault.body !== 'string' && !fault.headers?.['content-type']) {
          void reply.header('content-type', JSON_UTF8);
        }
        return reply.code(fault.status).send(body);
      }
    });
    app.addHook('preHandler', async (request) => {
      const path = pathOf(request.url);
      if (path.startsWith(CONTROL_PREFIX)) return;
      this.record({
        method: request.method,
        path,
        query: { ...(request.query as Record<string, unknown>) },
        body: request.body,
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
      });
    });
  }
}
