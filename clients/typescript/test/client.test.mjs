// What the client does with answers the local stack does not give on demand (an error page of
// a proxy, an unreachable host, many URLs): a fetch that answers from a table, no network.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, ApiProblem, createClient } from "../dist/index.js";
import { rejection } from "./helpers.mjs";

const BASE = "https://api.example.test/v1";
const TOPICS = { data: [{ topic: "ai", count: 1, latest_published_at: "2025-10-22T14:00:00Z" }] };

/** A fetch answering `respond(url, request)`; `requests` records what was sent. */
function fakeFetch(respond) {
  const requests = [];
  const fake = async (input, init) => {
    const request = new Request(input, init);
    requests.push(request);
    return respond(new URL(request.url), request);
  };
  return { fetch: fake, requests };
}

/** An API that tags every answer with an ETag of its URL and honours If-None-Match. */
function etagApi(extraHeaders = {}) {
  return fakeFetch((url, request) => {
    const etag = `"${url.pathname}${url.search}"`;
    if (request.headers.get("If-None-Match") === etag) {
      return new Response(null, { status: 304, headers: { ETag: etag } });
    }
    return Response.json(TOPICS, { headers: { ETag: etag, ...extraHeaders } });
  });
}

test("requests go to the base URL's path, with or without its trailing slash", async () => {
  const api = etagApi();
  const client = createClient({ baseUrl: `${BASE}/`, fetch: api.fetch });
  await client.storyPage({ topic: "ai", limit: 2 });
  assert.equal(api.requests[0].url, `${BASE}/stories?topic=ai&limit=2`);
});

test("a slug is sent as one path segment", async () => {
  const api = etagApi();
  await createClient({ baseUrl: BASE, fetch: api.fetch }).getStory("a/b?c");
  assert.equal(api.requests[0].url, `${BASE}/stories/a%2Fb%3Fc`);
});

test("the client's headers go with every request", async () => {
  const api = etagApi();
  const client = createClient({ baseUrl: BASE, fetch: api.fetch, headers: { "X-Api-Key": "k" } });
  await client.listTopics();
  await client.subscribe("reader@example.com");
  assert.deepEqual(
    api.requests.map((r) => r.headers.get("X-Api-Key")),
    ["k", "k"],
  );
});

test("a signup posts the address as JSON and asks for a JSON answer", async () => {
  const api = etagApi();
  await createClient({ baseUrl: BASE, fetch: api.fetch }).subscribe("reader@example.com");
  const [request] = api.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.headers.get("Content-Type"), "application/json");
  assert.match(request.headers.get("Accept"), /^application\/json\b/);
  assert.deepEqual(await request.json(), { email: "reader@example.com" });
});

test("only the last answers are remembered: the least recently used URL is forgotten", async () => {
  const api = etagApi();
  const client = createClient({ baseUrl: BASE, fetch: api.fetch, cacheEntries: 2 });
  await client.storyPage({ limit: 1 });
  await client.storyPage({ limit: 2 });
  await client.storyPage({ limit: 1 }); // used again: now the most recent
  await client.storyPage({ limit: 3 }); // pushes out limit=2
  await client.storyPage({ limit: 2 });
  await client.storyPage({ limit: 3 });
  assert.equal(client.cachedAnswers, 2);
  assert.deepEqual(
    api.requests.map((r) => r.headers.get("If-None-Match")),
    [null, null, '"/v1/stories?limit=1"', null, null, '"/v1/stories?limit=3"'],
  );
});

test("an answer marked no-store is not remembered", async () => {
  const api = etagApi({ "Cache-Control": "no-store" });
  const client = createClient({ baseUrl: BASE, fetch: api.fetch });
  await client.listTopics();
  await client.listTopics();
  assert.deepEqual(
    api.requests.map((r) => r.headers.get("If-None-Match")),
    [null, null],
  );
});

test("cacheEntries 0 turns conditional requests off", async () => {
  const api = etagApi();
  const client = createClient({ baseUrl: BASE, fetch: api.fetch, cacheEntries: 0 });
  await client.listTopics();
  await client.listTopics();
  assert.equal(api.requests[1].headers.get("If-None-Match"), null);
});

test("a problem document with a charset parameter is still an ApiProblem", async () => {
  const problem = {
    type: "about:blank",
    title: "Service Unavailable",
    status: 503,
    detail: "the story database is busy; retry shortly",
    request_id: "r-1",
  };
  const api = fakeFetch(() =>
    Response.json(problem, {
      status: 503,
      headers: { "Content-Type": "application/problem+json; charset=utf-8" },
    }),
  );
  const error = await rejection(createClient({ baseUrl: BASE, fetch: api.fetch }).listTopics());
  assert.ok(error instanceof ApiProblem);
  assert.equal(error.status, 503);
  assert.equal(error.requestId, "r-1");
  assert.deepEqual(error.problem, problem);
});

test("an error page is an ApiError with its status and body, not an ApiProblem", async () => {
  const api = fakeFetch(
    () =>
      new Response("<html>Bad Gateway</html>", {
        status: 502,
        statusText: "Bad Gateway",
        headers: { "Content-Type": "text/html" },
      }),
  );
  const error = await rejection(createClient({ baseUrl: BASE, fetch: api.fetch }).listTopics());
  assert.ok(error instanceof ApiError);
  assert.ok(!(error instanceof ApiProblem));
  assert.equal(error.status, 502);
  assert.equal(error.body, "<html>Bad Gateway</html>");
  assert.match(error.message, /GET https:\/\/api\.example\.test\/v1\/topics: HTTP 502 Bad Gateway/);
});

test("a successful answer that is not JSON is an ApiError", async () => {
  const api = fakeFetch(() => new Response("<html></html>", { status: 200 }));
  const error = await rejection(createClient({ baseUrl: BASE, fetch: api.fetch }).listTopics());
  assert.ok(error instanceof ApiError);
  assert.match(error.message, /not JSON/);
});

test("an unreachable API is an ApiError without a status, caused by the failure", async () => {
  const cause = new TypeError("fetch failed");
  const api = fakeFetch(() => Promise.reject(cause));
  const error = await rejection(createClient({ baseUrl: BASE, fetch: api.fetch }).listTopics());
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, null);
  assert.equal(error.cause, cause);
});

test("the walk stops at the page without a next cursor", async () => {
  const pages = {
    "": { data: [{ slug: "b" }, { slug: "a" }], meta: { limit: 2, next_cursor: "c1" } },
    c1: { data: [{ slug: "z" }], meta: { limit: 2, next_cursor: null } },
  };
  const api = fakeFetch((url) => Response.json(pages[url.searchParams.get("cursor") ?? ""]));
  const client = createClient({ baseUrl: BASE, fetch: api.fetch });
  const slugs = [];
  for await (const story of client.listStories({ limit: 2, topic: "ai" })) slugs.push(story.slug);
  assert.deepEqual(slugs, ["b", "a", "z"]);
  assert.deepEqual(
    api.requests.map((r) => new URL(r.url).search),
    ["?limit=2&topic=ai", "?limit=2&topic=ai&cursor=c1"],
  );
});

test("a walk asks for the next page only when the loop wants more", async () => {
  const page = { data: [{ slug: "b" }, { slug: "a" }], meta: { limit: 2, next_cursor: "c1" } };
  const api = fakeFetch(() => Response.json(page));
  const client = createClient({ baseUrl: BASE, fetch: api.fetch });
  for await (const story of client.listStories({ limit: 2 })) {
    assert.equal(story.slug, "b");
    break;
  }
  assert.equal(api.requests.length, 1);
});
