/**
 * A typed client of the SIGNAL/NOISE content API on `fetch` (browsers and Node 20+).
 *
 * Every type comes from `schema.d.ts`, which openapi-typescript generates from the published
 * OpenAPI document (`npm run generate`): a change of the contract breaks compilation here.
 */
import type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];
type OperationId = keyof operations;
type Responses<O extends OperationId> = operations[O]["responses"];
type Content<O extends OperationId, S extends keyof Responses<O>> = Responses<O>[S] extends {
  content: infer C;
}
  ? C
  : never;
/** The body of operation `O`'s answer `S` in media type `M`, as the document declares it. */
type Body<
  O extends OperationId,
  S extends keyof Responses<O>,
  M extends keyof Content<O, S>,
> = Content<O, S>[M];

export type StorySummary = Schemas["StorySummary"];
export type Story = Schemas["Story"];
export type Topic = Schemas["Topic"];
export type Problem = Schemas["Problem"];
export type ErrorItem = Schemas["ErrorItem"];
export type StoryList = Body<"listStories", 200, "application/json">;
export type StoryEnvelope = Body<"getStory", 200, "application/json">;
export type TopicList = Body<"listTopics", 200, "application/json">;
export type JsonFeed = Body<"jsonFeed", 200, "application/feed+json">;
export type RssFeed = Body<"rssFeed", 200, "application/rss+xml">;
export type SubscriptionAnswer = Body<"subscribe", 202, "application/json">;
export type ConfirmationAnswer = Body<"confirmSubscription", 200, "application/json">;
export type UnsubscribeAnswer = Body<"unsubscribe", 200, "application/json">;
type SubscriptionRequest = operations["subscribe"]["requestBody"]["content"]["application/json"];

/** The query of one page of stories (`GET /stories`). */
export type StoryPageQuery = NonNullable<operations["listStories"]["parameters"]["query"]>;
/** What narrows a walk over the stories: the cursors are the client's business. */
export type StoryFilter = Omit<StoryPageQuery, "cursor">;
export type GetStoryQuery = NonNullable<operations["getStory"]["parameters"]["query"]>;

/** The routes, checked against the document's `paths`. */
const ROUTES = {
  stories: "/stories",
  story: "/stories/{slug}",
  jsonFeed: "/feed.json",
  rssFeed: "/feed.xml",
  topics: "/topics",
  subscriptions: "/subscriptions",
  confirm: "/subscriptions/confirm",
  unsubscribe: "/subscriptions/unsubscribe",
} as const satisfies Record<string, keyof paths>;

const PROBLEM_TYPE = "application/problem+json";
const DEFAULT_CACHE_ENTRIES = 100;

/** An answer of the API that is a problem document (RFC 9457), with its fields. */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly requestId: string | null;
  /** What was invalid, one entry per field (`loc` such as `["query", "limit"]`); else empty. */
  readonly errors: ErrorItem[];
  /** The document as received. */
  readonly problem: Problem;

  constructor(problem: Problem, readonly url: string) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.problem = problem;
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.requestId = problem.request_id ?? null;
    this.errors = problem.errors ?? [];
  }

  /** The request id under the document's own name. */
  get request_id(): string | null {
    return this.requestId;
  }
}

/** A failure that is not a problem document: an unreachable API, an error page of a proxy,
 * an answer that does not parse. `status` is null when no answer came. */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    message: string,
    readonly url: string,
    readonly status: number | null,
    readonly body: string = "",
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

export interface ClientOptions {
  /** The API's address, e.g. `https://api.signal-noise.example/v1` (no trailing slash needed). */
  baseUrl: string;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Sent with every request (e.g. an `Authorization` header of a gateway in front). */
  headers?: HeadersInit;
  /** How many answers (ETag and body, by URL) are remembered for conditional requests; 0
   * turns conditional requests off. Least recently used first out. */
  cacheEntries?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

interface Remembered {
  etag: string;
  body: string;
}

/** The last ETag and body of each URL, at most `capacity` of them (least recently used out). */
class EtagCache {
  readonly #entries = new Map<string, Remembered>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(url: string): Remembered | undefined {
    const entry = this.#entries.get(url);
    if (entry !== undefined) {
      this.#entries.delete(url); // re-inserted: Map order is the recency order
      this.#entries.set(url, entry);
    }
    return entry;
  }

  set(url: string, entry: Remembered): void {
    if (this.capacity <= 0) return;
    this.#entries.delete(url);
    this.#entries.set(url, entry);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
}

type Query = Record<string, string | number | undefined>;

interface Call {
  method: "GET" | "POST";
  path: string;
  query?: Query;
  accept: string;
  json?: unknown;
  signal?: AbortSignal | undefined;
}

export class SignalNoiseClient {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Headers;
  readonly #cache: EtagCache;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    // Bound: a browser's fetch called as a method of another object throws "Illegal invocation".
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#headers = new Headers(options.headers);
    this.#cache = new EtagCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES);
  }

  /** How many answers are remembered for conditional requests. */
  get cachedAnswers(): number {
    return this.#cache.size;
  }

  /** One page of stories: follow `meta.next_cursor` with `cursor` for the next. */
  async storyPage(query: StoryPageQuery = {}, options: RequestOptions = {}): Promise<StoryList> {
    const page = await this.#json({
      method: "GET",
      path: ROUTES.stories,
      query: { ...query },
      accept: "application/json",
      signal: options.signal,
    });
    return page as StoryList;
  }

  /** Every page of stories (newest first) narrowed by `filter`, following the cursors. */
  async *listStoryPages(
    filter: StoryFilter = {},
    options: RequestOptions = {},
  ): AsyncGenerator<StoryList, void, undefined> {
    let cursor: string | null = null;
    do {
      const query: StoryPageQuery = cursor === null ? { ...filter } : { ...filter, cursor };
      const page = await this.storyPage(query, options);
      yield page;
      cursor = page.meta.next_cursor;
    } while (cursor !== null);
  }

  /** Every story (newest first) narrowed by `filter` (`topic`, `date`; `limit` is the page
   * size), fetched a page at a time as the loop asks for them. */
  async *listStories(
    filter: StoryFilter = {},
    options: RequestOptions = {},
  ): AsyncGenerator<StorySummary, void, undefined> {
    for await (const page of this.listStoryPages(filter, options)) {
      yield* page.data;
    }
  }

  /** The stories published on one UTC day (`YYYY-MM-DD`), newest first. */
  dailyArchive(
    date: string,
    filter: Omit<StoryFilter, "date"> = {},
    options: RequestOptions = {},
  ): AsyncGenerator<StorySummary, void, undefined> {
    return this.listStories({ ...filter, date }, options);
  }

  /** A story with the stories around it; `preview` is a preview token of a draft. */
  async getStory(
    slug: string,
    query: GetStoryQuery = {},
    options: RequestOptions = {},
  ): Promise<StoryEnvelope> {
    const story = await this.#json({
      method: "GET",
      path: ROUTES.story.replace("{slug}", encodeURIComponent(slug)),
      query: { ...query },
      accept: "application/json",
      signal: options.signal,
    });
    return story as StoryEnvelope;
  }

  /** The topics with their story counts. */
  async listTopics(options: RequestOptions = {}): Promise<Topic[]> {
    const topics = (await this.#json({
      method: "GET",
      path: ROUTES.topics,
      accept: "application/json",
      signal: options.signal,
    })) as TopicList;
    return topics.data;
  }

  /** The JSON Feed 1.1 document of the newest stories. */
  async jsonFeed(options: RequestOptions = {}): Promise<JsonFeed> {
    const feed = await this.#json({
      method: "GET",
      path: ROUTES.jsonFeed,
      accept: "application/feed+json",
      signal: options.signal,
    });
    return feed as JsonFeed;
  }

  /** The RSS 2.0 feed of the newest stories, as XML text. */
  async rssFeed(options: RequestOptions = {}): Promise<RssFeed> {
    return this.#text({
      method: "GET",
      path: ROUTES.rssFeed,
      accept: "application/rss+xml",
      signal: options.signal,
    });
  }

  /** Ask for the newsletter: the API emails a confirmation link (double opt-in). The answer
   * is the same whether or not the address was already subscribed. */
  async subscribe(email: string, options: RequestOptions = {}): Promise<SubscriptionAnswer> {
    const body: SubscriptionRequest = { email };
    const answer = await this.#json({
      method: "POST",
      path: ROUTES.subscriptions,
      accept: "application/json",
      json: body,
      signal: options.signal,
    });
    return answer as SubscriptionAnswer;
  }

  /** Confirm a subscription with the token of the confirmation link. */
  async confirmSubscription(
    token: string,
    options: RequestOptions = {},
  ): Promise<ConfirmationAnswer> {
    const answer = await this.#json({
      method: "GET",
      path: ROUTES.confirm,
      query: { token },
      accept: "application/json",
      signal: options.signal,
    });
    return answer as ConfirmationAnswer;
  }

  /** Unsubscribe with the token of an email's unsubscribe link. */
  async unsubscribe(token: string, options: RequestOptions = {}): Promise<UnsubscribeAnswer> {
    const answer = await this.#json({
      method: "GET",
      path: ROUTES.unsubscribe,
      query: { token },
      accept: "application/json",
      signal: options.signal,
    });
    return answer as UnsubscribeAnswer;
  }

  async #json(call: Call): Promise<unknown> {
    const { url, text } = await this.#send(call);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ApiError(`${call.method} ${url}: the answer is not JSON`, url, 200, text, {
        cause: error,
      });
    }
  }

  async #text(call: Call): Promise<string> {
    return (await this.#send(call)).text;
  }

  /** The body of a successful answer. A GET whose URL has a remembered ETag is conditional:
   * a 304 answers with the remembered body. */
  async #send(call: Call): Promise<{ url: string; text: string }> {
    const url = this.#url(call.path, call.query);
    const headers = new Headers(this.#headers);
    headers.set("Accept", `${call.accept}, ${PROBLEM_TYPE}`);
    const remembered = call.method === "GET" ? this.#cache.get(url) : undefined;
    if (remembered !== undefined) headers.set("If-None-Match", remembered.etag);
    const init: RequestInit = { method: call.method, headers };
    if (call.json !== undefined) {
      headers.set("Content-Type", "application/json");
      init.body = JSON.stringify(call.json);
    }
    if (call.signal !== undefined) init.signal = call.signal;

    let response: Response;
    try {
      response = await this.#fetch(url, init);
    } catch (error) {
      if (call.signal?.aborted === true) throw error; // the caller's own abort, unchanged
      throw new ApiError(`${call.method} ${url}: no answer (${String(error)})`, url, null, "", {
        cause: error,
      });
    }
    if (response.status === 304 && remembered !== undefined) {
      return { url, text: remembered.body };
    }
    const text = await response.text();
    if (!response.ok) throw failure(call.method, url, response, text);
    const etag = response.headers.get("ETag");
    const cacheControl = response.headers.get("Cache-Control") ?? "";
    if (call.method === "GET" && etag !== null && !/\bno-store\b/i.test(cacheControl)) {
      this.#cache.set(url, { etag, body: text });
    }
    return { url, text };
  }

  #url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search === "" ? "" : `?${search}`}`;
  }
}

function failure(method: string, url: string, response: Response, text: string): Error {
  const mediaType = (response.headers.get("Content-Type") ?? "").split(";")[0]?.trim();
  if (mediaType === PROBLEM_TYPE) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isProblem(parsed)) return new ApiProblem(parsed, url);
    } catch {
      // not JSON after all: reported below as a plain HTTP failure
    }
  }
  const statusText = response.statusText === "" ? "" : ` ${response.statusText}`;
  const message = `${method} ${url}: HTTP ${response.status}${statusText}`;
  return new ApiError(message, url, response.status, text);
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const fields = value as Record<string, unknown>;
  return (
    typeof fields["status"] === "number" &&
    typeof fields["title"] === "string" &&
    typeof fields["type"] === "string"
  );
}

/** A client of the API at `options.baseUrl`. */
export function createClient(options: ClientOptions): SignalNoiseClient {
  return new SignalNoiseClient(options);
}
