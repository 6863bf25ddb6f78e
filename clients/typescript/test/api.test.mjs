// The client against a running API (the local stack of `make dev` with the sample stories):
// SIGNAL_NOISE_API_URL is its address. Without it these tests are skipped, with the reason.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";

import { ApiProblem, createClient } from "../dist/index.js";
import { rejection } from "./helpers.mjs";

const API_URL = process.env.SIGNAL_NOISE_API_URL;
const skip = API_URL ? false : "SIGNAL_NOISE_API_URL is not set (e.g. `make dev`'s API URL)";
// The pytest wrapper passes the address it then looks for among the stack's sent emails.
const SIGNUP_ADDRESS = process.env.SIGNAL_NOISE_TEST_EMAIL || `reader-${randomUUID()}@example.com`;
const CONFIRM_SUBJECT = "Confirm your SIGNAL/NOISE subscription";

/** A fetch that records the status of every answer it passes on. */
function countingFetch() {
  const statuses = [];
  const counted = async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
  return { fetch: counted, statuses };
}

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** The local stack's sent emails (its /_local/emails route) to `address`, waiting for one. */
async function emailTo(address, subject) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await fetch(`${API_URL}/_local/emails`);
    assert.equal(answer.status, 200, "the local stack's /_local/emails route answers");
    const found = (await answer.json()).filter((m) => m.to === address && m.subject === subject);
    if (found.length > 0) return found[0];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`no email "${subject}" to ${address}`);
}

describe("the client against the API", { skip }, () => {
  const client = () => createClient({ baseUrl: API_URL });

  test("iterating the stories follows every cursor and yields each story once", async () => {
    const api = client();
    const pages = await collect(api.listStoryPages({ limit: 2 }));
    const slugs = (await collect(api.listStories({ limit: 2 }))).map((s) => s.slug);
    const everyOne = await collect(api.listStories({ limit: 50 }));
    assert.ok(pages.length > 2, "the walk takes several pages");
    assert.equal(pages.at(-1).meta.next_cursor, null);
    assert.equal(new Set(slugs).size, slugs.length, "no story twice");
    assert.deepEqual(slugs, everyOne.map((s) => s.slug));
  });

  test("the stories come newest first", async () => {
    const stories = await collect(client().listStories({ limit: 5 }));
    const times = stories.map((s) => s.published_at);
    assert.deepEqual(times, [...times].sort().reverse());
  });

  test("a topic narrows the walk to that topic's stories", async () => {
    const api = client();
    const [topic] = await api.listTopics();
    const stories = await collect(api.listStories({ topic: topic.topic, limit: 2 }));
    assert.equal(stories.length, topic.count);
    assert.ok(stories.every((s) => s.topics.includes(topic.topic)));
  });

  test("the daily archive holds that UTC day's stories", async () => {
    const api = client();
    const [newest] = (await api.storyPage({ limit: 1 })).data;
    const day = newest.published_at.slice(0, 10);
    const archive = await collect(api.dailyArchive(day, { limit: 1 }));
    assert.ok(archive.some((s) => s.slug === newest.slug));
    assert.ok(archive.every((s) => s.published_at.startsWith(day)));
  });

  test("a story is returned with the stories around it", async () => {
    const api = client();
    const [summary] = (await api.storyPage({ limit: 1 })).data;
    const story = await api.getStory(summary.slug);
    assert.equal(story.data.slug, summary.slug);
    assert.equal(story.data.title, summary.title);
    assert.ok(Array.isArray(story.related) && Array.isArray(story.recent));
    assert.equal(story.next, null, "the newest story has no newer one");
  });

  test("an unknown story is an ApiProblem 404 with the document's fields", async () => {
    const error = await rejection(client().getStory("no-such-story-anywhere"));
    assert.ok(error instanceof ApiProblem);
    assert.equal(error.status, 404);
    assert.equal(error.title, "Not Found");
    assert.equal(typeof error.type, "string");
    assert.match(error.detail, /no-such-story-anywhere/);
    assert.ok(error.requestId, "the problem carries the request id");
    assert.equal(error.request_id, error.requestId);
    assert.deepEqual(error.errors, []);
  });

  test("an invalid limit is an ApiProblem 400 naming the limit", async () => {
    const error = await rejection(client().storyPage({ limit: 0 }));
    assert.ok(error instanceof ApiProblem);
    assert.equal(error.status, 400);
    assert.deepEqual(
      error.errors.map((e) => e.loc),
      [["query", "limit"]],
    );
  });

  test("asking again is conditional: the 304 answers with the remembered body", async () => {
    const counting = countingFetch();
    const api = createClient({ baseUrl: API_URL, fetch: counting.fetch });
    const first = await api.listTopics();
    const second = await api.listTopics();
    assert.deepEqual(counting.statuses, [200, 304]);
    assert.deepEqual(second, first);
  });

  test("a remembered body is parsed afresh: changing a result leaves the next", async () => {
    const api = client();
    const first = await api.getStory((await api.storyPage({ limit: 1 })).data[0].slug);
    const title = first.data.title;
    first.data.title = "changed by the caller";
    assert.equal((await api.getStory(first.data.slug)).data.title, title);
  });

  test("the JSON feed is a JSON Feed 1.1 document of the newest stories", async () => {
    const api = client();
    const feed = await api.jsonFeed();
    const [newest] = (await api.storyPage({ limit: 1 })).data;
    assert.equal(feed.version, "https://jsonfeed.org/version/1.1");
    assert.ok(feed.items.length > 0);
    assert.ok(JSON.stringify(feed.items[0]).includes(newest.slug));
  });

  test("the RSS feed is the XML text of an RSS 2.0 document", async () => {
    const xml = await client().rssFeed();
    assert.equal(typeof xml, "string");
    assert.match(xml, /^<\?xml /);
    assert.match(xml, /<rss version="2.0"/);
  });

  test("the topics come with their counts", async () => {
    const topics = await client().listTopics();
    assert.ok(topics.length > 0);
    for (const topic of topics) {
      assert.equal(typeof topic.topic, "string");
      assert.ok(Number.isInteger(topic.count) && topic.count > 0);
    }
  });

  test("a signup is accepted (202) and its confirmation link confirms it", async () => {
    const api = client();
    const answer = await api.subscribe(SIGNUP_ADDRESS);
    assert.equal(answer.status, "accepted");
    const email = await emailTo(SIGNUP_ADDRESS, CONFIRM_SUBJECT);
    const link = new URL(email.links.find((l) => l.includes("/subscriptions/confirm")));
    const confirmed = await api.confirmSubscription(link.searchParams.get("token"));
    assert.equal(confirmed.status, "confirmed");
  });

  test("an invalid address is an ApiProblem 400 naming body.email", async () => {
    const error = await rejection(client().subscribe("not-an-address"));
    assert.ok(error instanceof ApiProblem);
    assert.equal(error.status, 400);
    assert.deepEqual(
      error.errors.map((e) => e.loc),
      [["body", "email"]],
    );
  });

  test("an unsubscribe link that is not valid is an ApiProblem 400", async () => {
    const error = await rejection(client().unsubscribe("not-a-token"));
    assert.ok(error instanceof ApiProblem);
    assert.equal(error.status, 400);
  });

  test("an aborted request rejects with the abort, not an API error", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(client().listTopics({ signal: controller.signal }));
    assert.equal(error.name, "AbortError");
  });
});
