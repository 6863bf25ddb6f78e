// SIGNAL/NOISE reader page: Recent Stories, a topic filter and one story at a time, read
// from the content API. No build step, no dependencies.
//
// Routes live in the URL hash so every view is linkable:
//   #/                  Recent Stories
//   #/topics/<topic>    Recent Stories of one topic
//   #/stories/<slug>    one story (the API's STORY_URL_TEMPLATE points here)
//
// The API base URL is the page's own origin, or ?api=http(s)://host[:port][/path].
//
// Every piece of API data reaches the page as text (textContent / text nodes) or as an
// attribute value set with setAttribute: nothing from the API is ever parsed as HTML.
//
// The newsletter sign-up form posts to <api>/subscriptions: form-encoded without JavaScript,
// JSON through fetch with it. The typed address is never written back into the page.

const PAGE_SIZE = 10;
const SITE_NAME = "SIGNAL/NOISE";

const dateFormat = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  year: "numeric",
  timeZone: "UTC", // the API stores UTC: every reader sees the same date
});

// ---------------------------------------------------------------------------------------
// Small helpers

/** "2025-10-17T15:00:00Z" -> "Oct 17, 2025" (the input itself when it is not a date). */
export function formatDate(value) {
  const text = asText(value);
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : dateFormat.format(date);
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

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** The view a hash asks for. */
export function parseRoute(hash) {
  const path = hash.replace(/^#/, "");
  let match = /^\/stories\/([^/]+)\/?$/.exec(path);
  if (match) return { view: "story", slug: decode(match[1]) };
  match = /^\/topics\/([^/]+)\/?$/.exec(path);
  if (match) return { view: "list", topic: decode(match[1]) || null };
  return { view: "list", topic: null };
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

function listUrl(base, topic, cursor) {
  const url = new URL(`${base}/stories`);
  url.searchParams.set("limit", String(PAGE_SIZE));
  if (topic) url.searchParams.set("topic", topic);
  if (cursor) url.searchParams.set("cursor", cursor);
  return url.href;
}

function storyUrl(base, slug) {
  return `${base}/stories/${encodeURIComponent(slug)}`;
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
  loadMore: $("load-more"),
  storyView: $("story-view"),
  storyStatus: $("story-status"),
  storyContainer: $("story-container"),
  backLink: $("back-link"),
};

const config = apiBaseFrom(window.location.search, window.location.origin);

const state = {
  view: null,
  topicsSeen: new Set(),
  topicButtons: new Map(), // topic ("" = All) -> button
  listHash: "#/",
  openedSlug: null,
  list: {
    topic: undefined, // undefined: nothing loaded yet
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

function addTopicButton(topic) {
  if (state.topicButtons.has(topic)) return;
  const button = h(
    "button",
    { class: "topic", type: "button", "data-topic": topic, "aria-pressed": "false" },
    topic ? topicLabel(topic) : "All",
  );
  button.addEventListener("click", () => {
    const target = topicHash(topic);
    if (window.location.hash !== target) window.location.hash = target;
  });
  const item = h("li", {}, button);
  // "All" first, then the topics in alphabetical order.
  const after = [...state.topicButtons.keys()]
    .filter((other) => other !== "" && topic !== "" && other > topic)
    .sort()[0];
  if (after === undefined) ui.topicFilter.append(item);
  else ui.topicFilter.insertBefore(item, state.topicButtons.get(after).parentElement);
  state.topicButtons.set(topic, button);
}

function noteTopics(topics) {
  for (const topic of topics) {
    if (typeof topic === "string" && topic !== "" && !state.topicsSeen.has(topic)) {
      state.topicsSeen.add(topic);
      addTopicButton(topic);
    }
  }
}

function markCurrentTopic(topic) {
  for (const [name, button] of state.topicButtons) {
    button.setAttribute("aria-pressed", String(name === (topic || "")));
  }
}

// -- Recent Stories ---------------------------------------------------------------------

function storyCard(summary) {
  const slug = asText(summary.slug);
  const topics = asList(summary.topics).filter((t) => typeof t === "string");
  const published = asText(summary.published_at);
  return h(
    "li",
    { class: "card", "data-slug": slug, "data-topics": topics.join(" ") },
    h("time", { class: "card__date", datetime: published }, formatDate(published)),
    h(
      "h2",
      { class: "card__title" },
      h("a", { class: "card__link", href: storyHash(slug) }, asText(summary.title)),
    ),
    h("p", { class: "card__excerpt" }, asText(summary.excerpt)),
  );
}

function resetList(topic) {
  const list = state.list;
  if (list.controller) list.controller.abort();
  list.topic = topic;
  list.slugs = new Set();
  list.cursor = null;
  list.done = false;
  list.loading = false;
  list.controller = null;
  list.scrollY = 0;
  ui.stories.replaceChildren();
  ui.listError.replaceChildren();
  ui.listError.hidden = true;
  ui.loadMore.hidden = true;
  ui.loadMore.removeAttribute("aria-disabled");
  ui.loadMore.textContent = "Load more";
  ui.stories.removeAttribute("aria-busy");
  ui.listHeading.replaceChildren("Recent Stories");
  if (topic) {
    ui.listHeading.append(h("span", { class: "page-title__topic" }, ` · ${topicLabel(topic)}`));
    noteTopics([topic]);
  }
  markCurrentTopic(topic);
}

async function loadPage() {
  const list = state.list;
  if (list.loading || list.done) return;
  if (config.error) {
    ui.listError.replaceChildren(
      ...errorBlock({ title: "This page is misconfigured", detail: config.error, requestId: "" }),
    );
    ui.listError.hidden = false;
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
    const page = await getJson(listUrl(config.base, list.topic, list.cursor), controller.signal);
    if (controller.signal.aborted) return;
    const fresh = asList(page.data).filter(
      (item) => item && typeof item === "object" && !list.slugs.has(asText(item.slug)),
    );
    const cards = fresh.map(storyCard);
    for (const item of fresh) {
      list.slugs.add(asText(item.slug));
      noteTopics(asList(item.topics));
    }
    ui.stories.append(...cards);
    const next = page.meta && typeof page.meta === "object" ? page.meta.next_cursor : null;
    list.cursor = typeof next === "string" && next !== "" ? next : null;
    list.done = list.cursor === null;
    ui.loadMore.hidden = list.done;
    if (list.slugs.size === 0) {
      setStatus(
        ui.listStatus,
        list.topic ? "There are no stories on this topic yet." : "There are no stories yet.",
      );
    } else {
      const count = list.slugs.size;
      setStatus(ui.listStatus, `Showing ${count} ${count === 1 ? "story" : "stories"}.`);
    }
    // The button (or the retry button) vanished under the keyboard: carry focus on to the
    // first new story.
    if (cards.length > 0 && ((fromButton && list.done) || fromRetry)) {
      cards[0].querySelector("a").focus();
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

function showList(topic, initial) {
  if (state.view === "story") abortStory();
  const reuse = state.list.topic === topic;
  state.listHash = topicHash(topic);
  ui.backLink.setAttribute("href", state.listHash);
  ui.storyView.hidden = true;
  ui.listView.hidden = false;
  const cameFromStory = state.view === "story";
  state.view = "list";
  document.title = topic
    ? `${topicLabel(topic)} · Recent Stories — ${SITE_NAME}`
    : `Recent Stories — ${SITE_NAME}`;
  if (!reuse) {
    resetList(topic);
    loadPage();
    if (!initial) window.scrollTo(0, 0);
    return;
  }
  markCurrentTopic(topic);
  if (!state.list.done && state.list.slugs.size === 0 && !state.list.loading) loadPage();
  if (cameFromStory) {
    window.scrollTo(0, state.list.scrollY);
    const opened = state.openedSlug
      ? [...ui.stories.querySelectorAll("li")].find((li) => li.dataset.slug === state.openedSlug)
      : null;
    if (opened) opened.querySelector("a").focus({ preventScroll: true });
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

  noteTopics(topics);
  return h(
    "article",
    { class: "story", "data-slug": asText(story.slug) },
    header,
    h("p", { class: "story__intro" }, asText(story.summary)),
    sections,
    source,
  );
}

async function showStory(slug, initial) {
  if (state.view === "list") state.list.scrollY = window.scrollY;
  state.view = "story";
  state.openedSlug = slug;
  abortStory();
  ui.listView.hidden = true;
  ui.storyView.hidden = false;
  ui.backLink.setAttribute("href", state.listHash);
  ui.storyContainer.replaceChildren();
  ui.storyContainer.removeAttribute("role");
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
    const body = await getJson(storyUrl(config.base, slug), controller.signal);
    if (controller.signal.aborted) return;
    const story = body.data && typeof body.data === "object" ? body.data : {};
    ui.storyContainer.replaceChildren(renderStory(story));
    document.title = `${asText(story.title)} — ${SITE_NAME}`;
    setStatus(ui.storyStatus, "");
    if (!initial) ui.storyContainer.querySelector("h1").focus({ preventScroll: true });
  } catch (error) {
    if (error.name === "AbortError" || controller.signal.aborted) return;
    const problem = error instanceof ApiError ? error.problem : unexpected(error);
    const status = error instanceof ApiError ? error.status : 0;
    showStoryError(problem, status, initial, () => showStory(slug, false));
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
  if (where.view === "story") showStory(where.slug, initial);
  else showList(where.topic, initial);
}

function start() {
  addTopicButton("");
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
