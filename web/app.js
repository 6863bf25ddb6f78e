// SIGNAL/NOISE reader page: Recent Stories, a topic filter and one story at a time, read
// from the content API. No build step, no dependencies.
//
// Routes live in the URL hash so every view is linkable:
//   #/                                  Recent Stories
//   #/topics/<topic>                    Recent Stories of one topic
//   #/archive/<YYYY-MM-DD>              the stories published on one UTC day
//   #/stories/<slug>                    one story (the API's STORY_URL_TEMPLATE points here)
//   #/stories/<slug>?preview=<token>    a draft or scheduled story, from a receipt's link
// The receipt's preview_url carries the token in its query string: ?preview=<token> in the
// page's own query, next to a #/stories/<slug> route, works too (moved into the hash).
//
// The API base URL is the page's own origin, or ?api=http(s)://host[:port][/path].
//
// Every piece of API data reaches the page as text (textContent / text nodes) or as an
// attribute value set with setAttribute: nothing from the API is ever parsed as HTML.
//
// The newsletter sign-up form posts to <api>/subscriptions: form-encoded without JavaScript,
// JSON through fetch with it. The typed address is never written back into the page.

const PAGE_SIZE = 10;
// How long the first page of stories waits for GET /topics, so that both land in one layout.
const TOPICS_WAIT_MS = 1000;
const SITE_NAME = "SIGNAL/NOISE";

const dateFormat = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  year: "numeric",
  timeZone: "UTC", // the API stores UTC: every reader sees the same date
});
const dateTimeFormat = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

// ---------------------------------------------------------------------------------------
// Small helpers

/** "2025-10-17T15:00:00Z" -> "Oct 17, 2025" (the input itself when it is not a date). */
export function formatDate(value) {
  const text = asText(value);
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : dateFormat.format(date);
}

/** "2025-10-30T14:00:00Z" -> "Oct 30, 2025, 14:00 UTC" (the input itself when not a date). */
export function formatDateTime(value) {
  const text = asText(value);
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : `${dateTimeFormat.format(date)} UTC`;
}

/** The UTC day of a timestamp, "YYYY-MM-DD", or null when it is not a date. */
export function utcDay(value) {
  const date = new Date(asText(value));
  return Number.isNaN(date.getTime()) ? null : date.toISOString().slice(0, 10);
}

/** "2025-10-17" -> "Oct 17, 2025" (formatted at noon UTC, so no zone shifts the day). */
function formatDay(day) {
  return DAY.test(day) ? formatDate(`${day}T12:00:00Z`) : day;
}

function asText(value) {
  return typeof value === "string" ? value : "";
}

function asList(value) {
  return Array.isArray(value) ? value : [];
}

/** The URL when it is an absolute http(s) URL, otherwise null (javascript:, data:, ...). */
export function safeHttpUrl(value) {
  let url;
  try {
    url = new URL(asText(value));
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

/**
 * Build an element. `props` are trusted names set as attributes ("class" sets className);
 * children are nodes or strings, and strings always become text nodes.
 */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function topicLabel(topic) {
  return topic.replace(/-/g, " ");
}

function topicHash(topic) {
  return topic ? `#/topics/${encodeURIComponent(topic)}` : "#/";
}

function storyHash(slug) {
  return `#/stories/${encodeURIComponent(slug)}`;
}

function archiveHash(day) {
  return `#/archive/${day}`;
}

/** The hash of a list view: the day's archive, a topic, or Recent Stories. */
function listHash(topic, day) {
  return day ? archiveHash(day) : topicHash(topic);
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** The view a hash asks for: a story (with its preview token, or null) or a list. */
export function parseRoute(hash) {
  const whole = hash.replace(/^#/, "");
  const mark = whole.indexOf("?");
  const path = mark === -1 ? whole : whole.slice(0, mark);
  const query = new URLSearchParams(mark === -1 ? "" : whole.slice(mark + 1));
  let match = /^\/stories\/([^/]+)\/?$/.exec(path);
  if (match) {
    return { view: "story", slug: decode(match[1]), preview: query.get("preview") || null };
  }
  match = /^\/topics\/([^/]+)\/?$/.exec(path);
  if (match) return { view: "list", topic: decode(match[1]) || null, day: null };
  match = /^\/archive\/([^/]+)\/?$/.exec(path);
  if (match) return { view: "list", topic: null, day: decode(match[1]) || null };
  return { view: "list", topic: null, day: null };
}

/**
 * The receipt's form of a preview link, /?preview=<token>#/stories/<slug>, as the page's own
 * form (the token in the hash route); null when the URL is not one.
 */
export function previewInHash(search, hash) {
  const params = new URLSearchParams(search);
  const token = params.get("preview");
  const where = parseRoute(hash);
  if (!token || where.view !== "story" || where.preview) return null;
  params.delete("preview");
  const rest = params.toString();
  return {
    search: rest ? `?${rest}` : "",
    hash: `${storyHash(where.slug)}?${new URLSearchParams({ preview: token })}`,
  };
}

/** The API base URL: ?api=... when it is an http(s) URL, else the page's origin. */
export function apiBaseFrom(search, origin) {
  const param = new URLSearchParams(search).get("api");
  if (param === null || param === "") return { base: origin, error: null };
  const href = safeHttpUrl(param);
  if (!href) {
    return { base: null, error: "The api parameter must be an http:// or https:// URL." };
  }
  const url = new URL(href);
  return { base: url.origin + url.pathname.replace(/\/+$/, ""), error: null };
}

// ---------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title);
    this.status = status;
    this.problem = problem;
  }
}

function problemFrom(body, response) {
  const doc = body && typeof body === "object" ? body : {};
  return {
    title: asText(doc.title) || response.statusText || `HTTP ${response.status}`,
    detail: asText(doc.detail) || asText(doc.message),
    requestId: asText(doc.request_id) || response.headers.get("x-amzn-RequestId") || "",
  };
}

async function getJson(url, signal) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      title: "Network error",
      detail: "The story service could not be reached. Check your connection and try again.",
      requestId: "",
    });
  }
  const type = response.headers.get("Content-Type") || "";
  let body = null;
  if (type.includes("json")) {
    try {
      body = await response.json();
    } catch (error) {
      if (error.name === "AbortError") throw error;
      body = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, problemFrom(body, response));
  if (body === null || typeof body !== "object") {
    throw new ApiError(response.status, {
      title: "Unexpected response",
      detail: "The story service answered with something other than JSON.",
      requestId: "",
    });
  }
  return body;
}

function listUrl(base, topic, cursor, day = null) {
  const url = new URL(`${base}/stories`);
  url.searchParams.set("limit", String(PAGE_SIZE));
  if (topic) url.searchParams.set("topic", topic);
  if (day) url.searchParams.set("date", day);
  if (cursor) url.searchParams.set("cursor", cursor);
  return url.href;
}

function storyUrl(base, slug, preview = null) {
  const path = `${base}/stories/${encodeURIComponent(slug)}`;
  return preview ? `${path}?${new URLSearchParams({ preview })}` : path;
}

function topicsUrl(base) {
  return `${base}/topics`;
}

// ---------------------------------------------------------------------------------------
// The page

const $ = (id) => document.getElementById(id);

const ui = {
  listView: $("list-view"),
  listHeading: $("list-heading"),
  topicFilter: $("topic-filter"),
  listStatus: $("list-status"),
  listError: $("list-error"),
  stories: $("stories"),
  listSkeleton: $("list-skeleton"),
  loadMore: $("load-more"),
  storyView: $("story-view"),
  storyStatus: $("story-status"),
  storyContainer: $("story-container"),
  storySkeleton: $("story-skeleton"),
  previewBanner: $("preview-banner"),
  backLink: $("back-link"),
};

const config = apiBaseFrom(window.location.search, window.location.origin);

const state = {
  view: null,
  topics: [], // [{topic, count}] from GET /topics, in its order (count desc, then name)
  topicButtons: new Map(), // topic ("" = All) -> button
  topicsLoaded: Promise.resolve(), // settles when GET /topics has answered (or failed)
  holdTopics: false, // true until the first page of stories draws the filter with it
  listHash: "#/",
  openedSlug: null,
  list: {
    topic: undefined, // undefined: nothing loaded yet
    day: null, // "YYYY-MM-DD": the daily archive of that UTC day
    slugs: new Set(),
    cursor: null,
    done: false,
    loading: false,
    controller: null,
    scrollY: 0,
  },
  storyController: null,
};

function setStatus(element, text) {
  element.textContent = text;
  element.classList.toggle("status--busy", text !== "" && text.endsWith("…"));
}

/** "the story 'x' was retracted" -> "The story 'x' was retracted." */
function sentence(text) {
  const trimmed = text.trim();
  if (trimmed === "") return trimmed;
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** A readable error block: title, detail, reference and an optional retry button. */
function errorBlock(problem, { heading = "p", onRetry = null, extra = null } = {}) {
  const children = [h(heading, { class: "error__title" }, problem.title)];
  if (extra) children.push(h("p", { class: "error__text" }, extra));
  if (problem.detail) children.push(h("p", { class: "error__text" }, sentence(problem.detail)));
  if (problem.requestId) {
    children.push(h("p", { class: "error__ref" }, `Reference: ${problem.requestId}`));
  }
  if (onRetry) {
    const retry = h("button", { class: "button button--quiet", type: "button" }, "Try again");
    retry.addEventListener("click", onRetry);
    children.push(h("p", {}, retry));
  }
  return children;
}

// -- topic filter ------------------------------------------------------------------------
// Built from GET /topics (each topic with its count of public stories), "All" first. A topic
// in the route that /topics does not list (yet) gets a button without a count.

function topicItem(topic, count) {
  const button = h(
    "button",
    { class: "topic", type: "button", "data-topic": topic, "aria-pressed": "false" },
    topic ? topicLabel(topic) : "All",
  );
  button.addEventListener("click", () => {
    const target = topicHash(topic);
    if (window.location.hash !== target) window.location.hash = target;
  });
  const item = h("li", { class: "topics__item" }, button);
  if (typeof count === "number") {
    // The count sits next to the button (drawn inside its pill) and describes it, so the
    // button's name stays the topic: "robotics, 5 stories" to a screen reader.
    const id = `topic-count-${state.topicButtons.size}`;
    button.classList.add("topic--counted");
    button.setAttribute("aria-describedby", id);
    item.append(
      h(
        "span",
        { class: "topic__count", id, "data-count": String(count) },
        String(count),
        h("span", { class: "visually-hidden" }, count === 1 ? " story" : " stories"),
      ),
    );
  }
  state.topicButtons.set(topic, button);
  return item;
}

function renderTopics() {
  const focused = document.activeElement;
  const focusedTopic =
    focused && ui.topicFilter.contains(focused) ? focused.dataset.topic : undefined;
  state.topicButtons = new Map();
  const items = [topicItem("", null)];
  for (const { topic, count } of state.topics) items.push(topicItem(topic, count));
  const current = state.list.topic;
  if (current && !state.topicButtons.has(current)) items.push(topicItem(current, null));
  ui.topicFilter.replaceChildren(...items);
  markCurrentTopic();
  if (focusedTopic !== undefined && state.topicButtons.has(focusedTopic)) {
    state.topicButtons.get(focusedTopic).focus();
  }
}

/** GET /topics into state.topics; false when it failed (the filter then keeps "All"). */
async function fetchTopics() {
  if (config.error) return false;
  try {
    const body = await getJson(topicsUrl(config.base));
    state.topics = asList(body.data)
      .filter((entry) => entry && typeof entry === "object")
      .filter((entry) => typeof entry.topic === "string" && entry.topic !== "")
      .map((entry) => ({
        topic: entry.topic,
        count: Number.isInteger(entry.count) ? entry.count : null,
      }));
  } catch (error) {
    // The list still works without the filter: keep "All" (and the route's topic).
    if (!(error instanceof ApiError)) console.error(error);
    return false;
  }
  return true;
}

/**
 * Fetch the topics and draw the filter, except while the first page of stories is on its
 * way: drawn on their own, a dozen topics wrap onto new lines and push the placeholders (or
 * the stories) down, a layout shift; that page draws them with its stories instead.
 */
function loadTopics() {
  state.topicsLoaded = fetchTopics().then((fetched) => {
    if (fetched && !(state.holdTopics && state.view === "list")) renderTopics();
  });
}

/** Draw the filter held back for the first page (see loadTopics). */
function releaseTopics() {
  if (!state.holdTopics) return;
  state.holdTopics = false;
  renderTopics();
}

/** aria-pressed on the list's topic ("All" for Recent Stories, none for a day's archive). */
function markCurrentTopic() {
  const { topic, day } = state.list;
  const current = day ? null : topic || "";
  if (current && !state.topicButtons.has(current)) {
    renderTopics(); // a topic /topics does not list: give it a button
    return;
  }
  for (const [name, button] of state.topicButtons) {
    button.setAttribute("aria-pressed", String(name === current));
  }
}

// -- Recent Stories ---------------------------------------------------------------------

/** One story of a list: its date (a link to that day's archive), title and excerpt. */
function storyCard(summary, heading = "h2") {
  const slug = asText(summary.slug);
  const topics = asList(summary.topics).filter((t) => typeof t === "string");
  const published = asText(summary.published_at);
  const shown = formatDate(published);
  const time = h("time", { datetime: published }, shown);
  const day = utcDay(published);
  return h(
    "li",
    { class: "card", "data-slug": slug, "data-topics": topics.join(" ") },
    day
      ? h(
          "a",
          { class: "card__date", href: archiveHash(day), "aria-label": `Stories of ${shown}` },
          time,
        )
      : h("span", { class: "card__date" }, time),
    h(
      heading,
      { class: "card__title" },
      h("a", { class: "card__link", href: storyHash(slug) }, asText(summary.title)),
    ),
    h("p", { class: "card__excerpt" }, asText(summary.excerpt)),
  );
}

function resetList(topic, day) {
  const list = state.list;
  if (list.controller) list.controller.abort();
  list.topic = topic;
  list.day = day;
  list.slugs = new Set();
  list.cursor = null;
  list.done = false;
  list.loading = false;
  list.controller = null;
  list.scrollY = 0;
  ui.stories.replaceChildren();
  ui.listSkeleton.hidden = false;
  ui.listError.replaceChildren();
  ui.listError.hidden = true;
  ui.loadMore.hidden = true;
  ui.loadMore.removeAttribute("aria-disabled");
  ui.loadMore.textContent = "Load more";
  ui.stories.removeAttribute("aria-busy");
  if (day) {
    ui.listHeading.replaceChildren(
      "Stories of ",
      h("time", { class: "page-title__topic", datetime: day }, formatDay(day)),
    );
  } else {
    ui.listHeading.replaceChildren("Recent Stories");
  }
  if (topic) {
    ui.listHeading.append(h("span", { class: "page-title__topic" }, ` · ${topicLabel(topic)}`));
  }
  markCurrentTopic();
}

async function loadPage() {
  const list = state.list;
  if (list.loading || list.done) return;
  if (config.error) {
    ui.listError.replaceChildren(
      ...errorBlock({ title: "This page is misconfigured", detail: config.error, requestId: "" }),
    );
    ui.listError.hidden = false;
    ui.listSkeleton.hidden = true;
    return;
  }
  const controller = new AbortController();
  list.controller = controller;
  list.loading = true;
  const more = list.slugs.size > 0;
  const fromButton = document.activeElement === ui.loadMore;
  const fromRetry = ui.listError.contains(document.activeElement);
  ui.listError.hidden = true;
  ui.stories.setAttribute("aria-busy", "true");
  // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
  ui.loadMore.setAttribute("aria-disabled", "true");
  ui.loadMore.textContent = "Loading…";
  setStatus(ui.listStatus, more ? "Loading more stories…" : "Loading stories…");
  try {
    const page = await getJson(
      listUrl(config.base, list.topic, list.cursor, list.day),
      controller.signal,
    );
    if (controller.signal.aborted) return;
    if (state.holdTopics) {
      await Promise.race([state.topicsLoaded, pause(TOPICS_WAIT_MS)]);
      if (controller.signal.aborted) return;
      releaseTopics();
    }
    const fresh = asList(page.data).filter(
      (item) => item && typeof item === "object" && !list.slugs.has(asText(item.slug)),
    );
    const cards = fresh.map((item) => storyCard(item));
    for (const item of fresh) list.slugs.add(asText(item.slug));
    ui.stories.append(...cards);
    ui.listSkeleton.hidden = true;
    const next = page.meta && typeof page.meta === "object" ? page.meta.next_cursor : null;
    list.cursor = typeof next === "string" && next !== "" ? next : null;
    list.done = list.cursor === null;
    ui.loadMore.hidden = list.done;
    if (list.slugs.size === 0) {
      setStatus(
        ui.listStatus,
        list.day
          ? "There are no stories on this day."
          : list.topic
            ? "There are no stories on this topic yet."
            : "There are no stories yet.",
      );
    } else {
      const count = list.slugs.size;
      setStatus(ui.listStatus, `Showing ${count} ${count === 1 ? "story" : "stories"}.`);
    }
    // The button (or the retry button) vanished under the keyboard: carry focus on to the
    // first new story.
    if (cards.length > 0 && ((fromButton && list.done) || fromRetry)) {
      cards[0].querySelector(".card__link").focus();
    }
  } catch (error) {
    if (error.name === "AbortError" || controller.signal.aborted) return;
    const problem = error instanceof ApiError ? error.problem : unexpected(error);
    ui.listError.replaceChildren(
      ...errorBlock(problem, {
        extra: more ? "More stories could not be loaded." : "The stories could not be loaded.",
        onRetry: () => loadPage(),
      }),
    );
    ui.listError.hidden = false;
    ui.listSkeleton.hidden = true;
    releaseTopics();
    setStatus(ui.listStatus, "");
  } finally {
    if (list.controller === controller) {
      list.loading = false;
      list.controller = null;
      ui.stories.removeAttribute("aria-busy");
      ui.loadMore.removeAttribute("aria-disabled");
      ui.loadMore.textContent = "Load more";
    }
  }
}

function unexpected(error) {
  console.error(error);
  return { title: "Something went wrong", detail: "Please try again.", requestId: "" };
}

function showList(topic, day, initial) {
  if (state.view === "story") abortStory();
  const reuse = state.list.topic === topic && state.list.day === day;
  state.listHash = listHash(topic, day);
  ui.backLink.setAttribute("href", state.listHash);
  ui.storyView.hidden = true;
  ui.listView.hidden = false;
  const cameFromStory = state.view === "story";
  state.view = "list";
  document.title = day
    ? `Stories of ${formatDay(day)} — ${SITE_NAME}`
    : topic
      ? `${topicLabel(topic)} · Recent Stories — ${SITE_NAME}`
      : `Recent Stories — ${SITE_NAME}`;
  if (!reuse) {
    resetList(topic, day);
    loadPage();
    if (!initial) {
      window.scrollTo(0, 0);
      // A day's archive is a new page: its heading says where the reader landed; so is a
      // topic opened from a story (its tag link vanished with the story view).
      if (day || cameFromStory) ui.listHeading.focus({ preventScroll: true });
    }
    return;
  }
  markCurrentTopic();
  if (!state.list.done && state.list.slugs.size === 0 && !state.list.loading) loadPage();
  if (cameFromStory) {
    window.scrollTo(0, state.list.scrollY);
    const opened = state.openedSlug
      ? [...ui.stories.querySelectorAll("li")].find((li) => li.dataset.slug === state.openedSlug)
      : null;
    if (opened) opened.querySelector(".card__link").focus({ preventScroll: true });
    else ui.listHeading.focus({ preventScroll: true });
  }
}

// -- one story ---------------------------------------------------------------------------

function abortStory() {
  if (state.storyController) state.storyController.abort();
  state.storyController = null;
}

function renderStory(story) {
  const title = asText(story.title);
  const published = asText(story.published_at);
  const updated = asText(story.updated_at);
  const author = asText(story.author);
  const topics = asList(story.topics).filter((t) => typeof t === "string" && t !== "");

  const meta = [h("time", { datetime: published }, formatDate(published))];
  if (author) meta.push(" · ", h("span", { class: "story__author" }, `By ${author}`));
  if (updated && formatDate(updated) !== formatDate(published)) {
    meta.push(" · ", "Updated ", h("time", { datetime: updated }, formatDate(updated)));
  }

  const header = h(
    "header",
    { class: "story__header" },
    h("h1", { class: "story__title", tabindex: "-1" }, title),
    h("p", { class: "story__meta" }, meta),
    topics.length
      ? h(
          "ul",
          { class: "tags", "aria-label": "Topics" },
          topics.map((topic) => {
            const link = { class: "tag", href: topicHash(topic), "data-topic": topic };
            return h("li", {}, h("a", link, topicLabel(topic)));
          }),
        )
      : null,
  );

  const sections = asList(story.sections)
    .filter((section) => section && typeof section === "object")
    .map((section) => {
      const bullets = asList(section.bullets).filter((b) => typeof b === "string");
      const body = asText(section.body);
      return h(
        "section",
        { class: "story__section" },
        h("h2", { class: "story__heading" }, asText(section.heading)),
        body ? h("p", { class: "story__lead" }, body) : null,
        bullets.length
          ? h("ul", { class: "story__bullets" }, bullets.map((bullet) => h("li", {}, bullet)))
          : null,
      );
    });

  let source = null;
  if (story.source && typeof story.source === "object") {
    const name = asText(story.source.name);
    const href = safeHttpUrl(story.source.url);
    const label = name || href || "";
    if (label) {
      source = h(
        "p",
        { class: "story__source" },
        "Source: ",
        href ? h("a", { href, rel: "noopener noreferrer" }, label) : label,
      );
    }
  }

  return h(
    "article",
    { class: "story", "data-slug": asText(story.slug) },
    header,
    h("p", { class: "story__intro" }, asText(story.summary)),
    sections,
    source,
  );
}

function asSummary(value) {
  return value && typeof value === "object" && asText(value.slug) !== "" ? value : null;
}

/** "← Older: <title>" and "Newer: <title> →": the public stories either side of this one. */
function storyPager(previous, next) {
  const links = [];
  if (previous) {
    links.push(
      h(
        "li",
        { class: "pager__item pager__item--older" },
        h(
          "a",
          { class: "pager__link", href: storyHash(asText(previous.slug)), rel: "prev" },
          "← Older: ",
          asText(previous.title),
        ),
      ),
    );
  }
  if (next) {
    links.push(
      h(
        "li",
        { class: "pager__item pager__item--newer" },
        h(
          "a",
          { class: "pager__link", href: storyHash(asText(next.slug)), rel: "next" },
          "Newer: ",
          asText(next.title),
          " →",
        ),
      ),
    );
  }
  if (links.length === 0) return null;
  return h(
    "nav",
    { class: "pager", "aria-label": "Older and newer stories" },
    h("ul", { class: "pager__list" }, links),
  );
}

/** A titled list of story cards below the story (none when the list is empty). */
function storyList(id, title, summaries, listTag) {
  if (summaries.length === 0) return null;
  return h(
    "section",
    { class: "more-stories", id: `${id}-stories`, "aria-labelledby": `${id}-heading` },
    h("h2", { class: "more-stories__title", id: `${id}-heading` }, title),
    h(listTag, { class: "stories stories--compact" }, summaries.map((s) => storyCard(s, "h3"))),
  );
}

/** The story's surroundings: older/newer links, related stories, the newest stories. */
function storyExtras(body) {
  const summaries = (value) => asList(value).map(asSummary).filter(Boolean);
  return [
    storyPager(asSummary(body.previous), asSummary(body.next)),
    storyList("related", "Related stories", summaries(body.related), "ul"),
    storyList("recent", "Recent Stories", summaries(body.recent), "ol"),
  ];
}

/** The banner of a preview: what it is (draft, scheduled) and until when the link works. */
function previewNotice(preview, story) {
  const status = asText(preview.status);
  const expires = asText(preview.expires_at);
  const published = asText(story.published_at);
  const what =
    status === "draft"
      ? ["Preview of a draft: this story is not public."]
      : status === "scheduled"
        ? [
            "Preview of a scheduled story: public from ",
            h("time", { datetime: published }, formatDateTime(published)),
            ".",
          ]
        : ["Preview: this story is already public."];
  const until = expires
    ? [
        " This preview link works until ",
        h("time", { datetime: expires }, formatDateTime(expires)),
        ".",
      ]
    : [];
  return h("p", { class: "preview__text", "data-preview-status": status }, what, until);
}

function clearPreview() {
  ui.previewBanner.replaceChildren();
}

async function showStory(slug, initial, preview = null) {
  if (state.view === "list") state.list.scrollY = window.scrollY;
  state.view = "story";
  state.openedSlug = slug;
  abortStory();
  ui.listView.hidden = true;
  ui.storyView.hidden = false;
  ui.backLink.setAttribute("href", state.listHash);
  ui.storyContainer.replaceChildren();
  ui.storyContainer.removeAttribute("role");
  ui.storySkeleton.hidden = false;
  clearPreview();
  window.scrollTo(0, 0);

  if (config.error || !slug) {
    const problem = config.error
      ? { title: "This page is misconfigured", detail: config.error, requestId: "" }
      : { title: "Not Found", detail: "This link does not point to a story.", requestId: "" };
    showStoryError(problem, null, initial);
    return;
  }

  const controller = new AbortController();
  state.storyController = controller;
  setStatus(ui.storyStatus, "Loading story…");
  ui.storyContainer.setAttribute("aria-busy", "true");
  try {
    const body = await getJson(storyUrl(config.base, slug, preview), controller.signal);
    if (controller.signal.aborted) return;
    const story = body.data && typeof body.data === "object" ? body.data : {};
    ui.storyContainer.replaceChildren(renderStory(story), ...storyExtras(body).filter(Boolean));
    ui.storySkeleton.hidden = true;
    const shownPreview = preview && body.preview && typeof body.preview === "object";
    if (shownPreview) ui.previewBanner.replaceChildren(previewNotice(body.preview, story));
    document.title = `${shownPreview ? "Preview: " : ""}${asText(story.title)} — ${SITE_NAME}`;
    setStatus(ui.storyStatus, "");
    if (!initial) ui.storyContainer.querySelector("h1").focus({ preventScroll: true });
  } catch (error) {
    if (error.name === "AbortError" || controller.signal.aborted) return;
    const problem = error instanceof ApiError ? error.problem : unexpected(error);
    const status = error instanceof ApiError ? error.status : 0;
    showStoryError(problem, status, initial, () => showStory(slug, false, preview));
  } finally {
    if (state.storyController === controller) {
      state.storyController = null;
      ui.storyContainer.removeAttribute("aria-busy");
    }
  }
}

function showStoryError(problem, status, initial, retry = null) {
  const extra =
    status === 410
      ? "This story was retracted and is no longer available."
      : status === 404
        ? "We could not find this story."
        : null;
  // Retrying helps with network trouble and 5xx, not with a missing or retracted story.
  const canRetry = retry && (status === 0 || status >= 500);
  const block = h(
    "div",
    { class: "error error--page", role: "alert", "data-status": status ?? "" },
    errorBlock(problem, { heading: "h1", extra, onRetry: canRetry ? retry : null }),
  );
  block.firstElementChild.setAttribute("tabindex", "-1");
  ui.storyContainer.replaceChildren(block);
  ui.storySkeleton.hidden = true;
  setStatus(ui.storyStatus, "");
  document.title = `${problem.title} — ${SITE_NAME}`;
  if (!initial) block.firstElementChild.focus({ preventScroll: true });
}

// -- newsletter sign-up ------------------------------------------------------------------

const signup = {
  form: $("signup-form"),
  input: $("signup-email"),
  button: $("signup-submit"),
  error: $("signup-error"),
  message: $("signup-message"),
  sending: false,
};

/** The message a 400 problem gives for the email field (errors[].loc ends in "email"). */
export function emailErrorFrom(body) {
  const errors = body && typeof body === "object" ? asList(body.errors) : [];
  for (const error of errors) {
    if (!error || typeof error !== "object") continue;
    const loc = asList(error.loc);
    const msg = asText(error.msg);
    if (loc[loc.length - 1] === "email" && msg) return msg;
  }
  return null;
}

/** The browser's own check of the field, in our words: its messages quote the value. */
function localEmailError(input) {
  const validity = input.validity;
  if (validity.valid) return "";
  if (validity.valueMissing) return "Enter your email address.";
  if (validity.tooLong) return "The email address is too long.";
  return "Enter an email address like name@example.com.";
}

function setFieldError(text) {
  signup.error.textContent = text;
  if (text) signup.input.setAttribute("aria-invalid", "true");
  else signup.input.removeAttribute("aria-invalid");
}

/** The outcome below the form: a heading line and a sentence, both as text. */
function setSignupMessage(kind, title = "", detail = "") {
  const parts = [];
  if (title) parts.push(h("strong", { class: "signup__message-title" }, title));
  if (title && detail) parts.push(" ");
  if (detail) parts.push(h("span", { class: "signup__message-text" }, detail));
  signup.message.replaceChildren(...parts);
  if (kind) signup.message.dataset.kind = kind;
  else delete signup.message.dataset.kind;
}

async function readJsonBody(response) {
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function subscribe(event) {
  event.preventDefault();
  if (signup.sending) return;
  setSignupMessage("");
  const invalid = localEmailError(signup.input);
  if (invalid) {
    setFieldError(invalid);
    signup.input.focus();
    return;
  }
  setFieldError("");
  if (config.error) {
    setSignupMessage("error", "This page is misconfigured.", config.error);
    return;
  }

  const buttonHadFocus = document.activeElement === signup.button;
  signup.sending = true;
  signup.button.disabled = true;
  signup.button.textContent = "Subscribing…";
  signup.form.setAttribute("aria-busy", "true");
  let focusField = false;
  try {
    let response;
    try {
      response = await fetch(`${config.base}/subscriptions`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email: signup.input.value }),
      });
    } catch {
      setSignupMessage(
        "error",
        "Network error.",
        "The subscription service could not be reached. Check your connection and try again.",
      );
      return;
    }
    const body = await readJsonBody(response);
    if (response.ok) {
      const detail = body && typeof body === "object" ? asText(body.detail) : "";
      signup.input.value = "";
      setSignupMessage(
        "ok",
        "Check your inbox.",
        sentence(detail) || "A link to confirm your subscription is on its way.",
      );
      return;
    }
    const fieldError = response.status === 400 ? emailErrorFrom(body) : null;
    if (fieldError) {
      setFieldError(sentence(fieldError));
      focusField = true;
      return;
    }
    const problem = problemFrom(body, response);
    setSignupMessage(
      "error",
      sentence(problem.title),
      sentence(problem.detail || "The subscription did not go through. Please try again."),
    );
  } finally {
    signup.sending = false;
    signup.button.disabled = false;
    signup.button.textContent = "Subscribe";
    signup.form.removeAttribute("aria-busy");
    if (focusField) signup.input.focus();
    else if (buttonHadFocus && document.activeElement === document.body) signup.button.focus();
  }
}

function startSignup() {
  if (!signup.form) return;
  // Our own messages next to the field instead of the browser's bubbles (which quote the
  // typed value); without JavaScript the browser still checks required and type=email.
  signup.form.noValidate = true;
  if (config.base) signup.form.setAttribute("action", `${config.base}/subscriptions`);
  signup.form.addEventListener("submit", subscribe);
}

// -- routing -----------------------------------------------------------------------------

function route(initial = false) {
  const where = parseRoute(window.location.hash);
  if (where.view === "story") showStory(where.slug, initial, where.preview);
  else showList(where.topic, where.day, initial);
}

function start() {
  // A receipt's preview link form: carry its token into the hash route, where every other
  // route keeps it from leaking into the next story's request.
  const moved = previewInHash(window.location.search, window.location.hash);
  if (moved) {
    const { pathname } = window.location;
    window.history.replaceState(null, "", `${pathname}${moved.search}${moved.hash}`);
  }
  renderTopics();
  state.holdTopics = parseRoute(window.location.hash).view === "list";
  loadTopics();
  if (config.base) {
    $("feed-rss").setAttribute("href", `${config.base}/feed.xml`);
    $("feed-json").setAttribute("href", `${config.base}/feed.json`);
  }
  ui.loadMore.addEventListener("click", () => loadPage());
  startSignup();
  // The skip link moves focus without touching the hash (the hash holds the route).
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    $("main").focus();
  });
  window.addEventListener("hashchange", () => {
    const hash = window.location.hash;
    if (hash === "" || hash.startsWith("#/")) route(false);
  });
  route(true);
}

start();
