// A small fetch-based client of Gatehouse's API, typed by the OpenAPI document: paths, path
// and query parameters, request bodies and the envelope's data all come from openapi.ts, which
// openapi-typescript generates from the current version's document (scripts/typescript-client).
// Hand-written; no dependency at run time.

import type { components, paths } from "./openapi.js";

/** The document's named schemas: `Schemas["TeamResponse"]`, … */
export type Schemas = components["schemas"];
/** The envelope's `meta`. */
export type Meta = Schemas["Meta"];
/** The envelope's `error`. */
export type ErrorBody = Schemas["ErrorBody"];

export type HttpMethod = "get" | "put" | "post" | "delete" | "patch";

/** The paths that have an operation for `M`. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: paths[P] extends { [K in M]: { responses: unknown } } ? P : never;
}[keyof paths];

/** The operation of `M` on `P`. */
export type Operation<P extends keyof paths, M extends HttpMethod> = paths[P] extends { [K in M]: infer O } ? O : never;

type IsNever<T> = [T] extends [never] ? true : false;
type Part<O, K extends string> = O extends { parameters: { [Q in K]?: infer X } } ? NonNullable<X> : never;
type RequestBody<O> = O extends { requestBody?: infer R } ? NonNullable<R> : never;
type JSONBody<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Body<O> =
  IsNever<RequestBody<O>> extends true
    ? { body?: never }
    : O extends { requestBody: unknown }
      ? { body: JSONBody<RequestBody<O>> }
      : { body?: JSONBody<RequestBody<O>> };
type PathPart<O> = IsNever<Part<O, "path">> extends true ? { path?: never } : { path: Part<O, "path"> };
type QueryPart<O> = IsNever<Part<O, "query">> extends true ? { query?: never } : { query?: Part<O, "query"> };

/** What a call sends besides the path: path parameters, query, body, and request details. */
export type RequestOptions<O> = PathPart<O> &
  QueryPart<O> &
  Body<O> & {
    /** Extra headers: `If-Match` with an ETag, `X-Request-ID`, … */
    headers?: Record<string, string>;
    signal?: AbortSignal;
  };

/** The call's options argument: required when the operation has path parameters or a body. */
type Options<O> = object extends RequestOptions<O> ? [options?: RequestOptions<O>] : [options: RequestOptions<O>];

type Success<O> = O extends { responses: infer R } ? R[Extract<keyof R, 200 | 201 | 202>] : never;
/** The envelope's `data` of an operation's successful answer. */
export type Data<O> = Success<O> extends { content: { "application/json": { data: infer D } } } ? D : never;

/** A successful answer: the envelope's data and meta, the HTTP status and headers (ETag, Location). */
export interface Result<T> {
  data: T;
  meta: Meta;
  status: number;
  headers: Headers;
}

/** A failure the service answered with its error envelope (or, `code` empty, without one). */
export class GatehouseError extends Error {
  readonly status: number;
  /** `error.code`: "invalid", "forbidden", "precondition_failed", … ("" without an envelope). */
  readonly code: string;
  /** The request fields at fault, and what is wrong with each. */
  readonly fields: Record<string, string>;
  /** The request's id (X-Request-ID), to quote when reporting a problem. */
  readonly requestId: string;

  constructor(status: number, body: ErrorBody | undefined, requestId: string, fallback: string) {
    super(body?.message ?? fallback);
    this.name = "GatehouseError";
    this.status = status;
    this.code = body?.code ?? "";
    this.fields = body?.fields ?? {};
    this.requestId = requestId;
  }
}

/** Supplies the bearer credential of each request (an access token or an API key), or none. */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export interface ClientOptions {
  /** The service's address, without `/api` ("https://auth.example.com"). */
  baseUrl: string;
  token?: TokenSource | undefined;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** A client of one Gatehouse service. */
export class Client {
  private readonly opts: ClientOptions;

  constructor(opts: ClientOptions) {
    this.opts = { ...opts, baseUrl: opts.baseUrl.replace(/\/+$/, "") };
  }

  /** A copy of this client that sends another credential. */
  withToken(token: TokenSource | undefined): Client {
    return new Client({ ...this.opts, token });
  }

  get<P extends PathsWith<"get">>(path: P, ...o: Options<Operation<P, "get">>): Promise<Result<Data<Operation<P, "get">>>> {
    return this.request("get", path, o[0] as RawOptions | undefined);
  }
  post<P extends PathsWith<"post">>(path: P, ...o: Options<Operation<P, "post">>): Promise<Result<Data<Operation<P, "post">>>> {
    return this.request("post", path, o[0] as RawOptions | undefined);
  }
  put<P extends PathsWith<"put">>(path: P, ...o: Options<Operation<P, "put">>): Promise<Result<Data<Operation<P, "put">>>> {
    return this.request("put", path, o[0] as RawOptions | undefined);
  }
  patch<P extends PathsWith<"patch">>(path: P, ...o: Options<Operation<P, "patch">>): Promise<Result<Data<Operation<P, "patch">>>> {
    return this.request("patch", path, o[0] as RawOptions | undefined);
  }
  delete<P extends PathsWith<"delete">>(path: P, ...o: Options<Operation<P, "delete">>): Promise<Result<Data<Operation<P, "delete">>>> {
    return this.request("delete", path, o[0] as RawOptions | undefined);
  }

  /** Sends one request and unwraps the envelope; rejects with a GatehouseError on an error answer. */
  async request<T>(method: HttpMethod, path: string, options?: RawOptions): Promise<Result<T>> {
    const url = new URL(this.opts.baseUrl + fillPath(path, options?.path));
    for (const [k, v] of Object.entries(options?.query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const headers = new Headers({ Accept: "application/json", ...this.opts.headers, ...options?.headers });
    const token = typeof this.opts.token === "function" ? await this.opts.token() : this.opts.token;
    if (token) headers.set("Authorization", `Bearer ${token}`);
    let body: string | undefined;
    if (options?.body !== undefined) {
      body = JSON.stringify(options.body);
      headers.set("Content-Type", "application/json");
    }
    const doFetch = this.opts.fetch ?? fetch;
    const init: RequestInit = { method: method.toUpperCase(), headers };
    if (body !== undefined) init.body = body;
    if (options?.signal) init.signal = options.signal;
    const res = await doFetch(url, init);
    const text = await res.text();
    let envelope: { status?: string; data?: unknown; meta?: Meta; error?: ErrorBody } | undefined;
    try {
      envelope = JSON.parse(text);
    } catch {
      envelope = undefined;
    }
    const requestId = res.headers.get("X-Request-ID") ?? "";
    if (!res.ok || envelope?.status === "error") {
      throw new GatehouseError(res.status, envelope?.error, requestId, `${res.status} ${text.slice(0, 200)}`);
    }
    if (envelope === undefined || envelope.meta === undefined) {
      throw new GatehouseError(res.status, undefined, requestId, `${method.toUpperCase()} ${path}: the answer is not an envelope`);
    }
    return { data: envelope.data as T, meta: envelope.meta, status: res.status, headers: res.headers };
  }
}

/** The untyped options of Client.request. */
export interface RawOptions {
  path?: Record<string, string | number> | undefined;
  query?: Record<string, unknown> | undefined;
  body?: unknown;
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
}

/** Replaces each {name} of a path pattern with its parameter, escaped. */
function fillPath(pattern: string, params: Record<string, string | number> | undefined): string {
  return pattern.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) throw new Error(`path parameter ${name} of ${pattern} is missing`);
    return encodeURIComponent(String(v));
  });
}

/** Creates a client: `createClient({ baseUrl, token })`. */
export function createClient(opts: ClientOptions): Client {
  return new Client(opts);
}

/** Walks every item of a paginated list (`data` an array, `meta.next_cursor` while more exists). */
export async function* all<T>(page: (cursor: string | undefined) => Promise<Result<T[]>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const res = await page(cursor);
    yield* res.data;
    cursor = res.meta.next_cursor;
  } while (cursor);
}
