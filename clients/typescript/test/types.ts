// Type-checked by `npm test` (tsc -p test), never run: what a program using the built package
// sees. Every @ts-expect-error proves a type is the document's, not `any`.
import {
  ApiProblem,
  createClient,
  type StoryEnvelope,
  type StorySummary,
  type SubscriptionAnswer,
  type Topic,
} from "../dist/index.js";

const api = createClient({ baseUrl: "https://api.signal-noise.example/v1" });

export async function consumer(): Promise<void> {
  for await (const story of api.listStories({ topic: "ai", limit: 2 })) {
    const summary: StorySummary = story;
    // @ts-expect-error a summary has no body: the list answer's schema says so
    void summary.sections;
  }
  for await (const story of api.dailyArchive("2025-10-22")) void story.published_at;
  // @ts-expect-error limit is an integer in the document, not a string
  api.listStories({ limit: "2" });

  const envelope: StoryEnvelope = await api.getStory("a-slug");
  const title: string = envelope.data.title;
  const newer: StorySummary | null = envelope.next;
  void title;
  void newer;

  const topics: Topic[] = await api.listTopics();
  const count: number = topics[0]?.count ?? 0;
  void count;

  const xml: string = await api.rssFeed();
  void xml;

  const answer: SubscriptionAnswer = await api.subscribe("reader@example.com");
  // @ts-expect-error the status of a signup is one of the document's values
  const wrong: typeof answer.status = "pending";
  void wrong;

  try {
    await api.storyPage({ limit: 0 });
  } catch (error) {
    if (error instanceof ApiProblem) {
      const fields: (string | number)[][] = error.errors.map((e) => e.loc);
      const id: string | null = error.requestId;
      void fields;
      void id;
    }
  }
}
