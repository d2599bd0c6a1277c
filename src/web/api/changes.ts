/** `GET /changes`: the change feed a host SIS follows (rules in `src/host/feed.ts`). */
import { z } from "@hono/zod-openapi";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { BadCursor, FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT, readFeed } from "../../host/feed.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { HttpError } from "../errors.ts";
import { guardedRoute, newApi } from "./common.ts";
import { jsonBody } from "./schemas.ts";

const FeedChange = z.object({
  cursor: z.string().openapi({ description: "The feed's position just after this entry" }),
  runId: z.number().int(),
  recordId: z.number().int().nullable().openapi({ description: "Null for a one-off import" }),
  table: z.string().openapi({ example: "students" }),
  schoolId: z.number().int().openapi({ description: "The run's school (0: District Office)" }),
  action: z.enum(["inserted", "updated", "reactivated", "inactivated", "removed", "dropped"])
    .openapi({
      description: "inserted: a new record; updated: fields changed (see changes); " +
        "reactivated: a record brought back (re-enrolled, offered again, active again) with no other change; " +
        "inactivated: marked inactive (an exited student, a schedule row dropped as of its DateLeft); " +
        "removed: taken out by Synchronize Mode (transferred out, Status 2, un-offered, inactive; attendance deleted); " +
        "dropped: the change log's drop action (no import table writes it today)",
    }),
  key: z.record(z.string(), z.unknown()).openapi({
    description: "The match key by catalog name",
    example: { Student_Number: 224401 },
  }),
  changes: z.record(z.string(), z.object({ old: z.unknown(), new: z.unknown() })).nullable()
    .openapi({
      description:
        "For updates: field → {old, new}, personal fields included (the host owns that data)",
    }),
  committedAt: z.string().nullable().openapi({ description: "When the run committed" }),
}).openapi("FeedChange");

const FeedGap = z.object({
  gap: z.literal(true),
  cursor: z.string().openapi({ description: "The position after the gap" }),
  from: z.string(),
  to: z.string(),
  message: z.string(),
}).openapi("FeedGap", {
  description: "Entries between from and to were removed by retention before this cursor read them",
});

const FeedPage = z.object({
  entries: z.array(z.union([FeedChange, FeedGap])),
  next: z.string().openapi({
    description: "The cursor to pass as since next time; equal to since when nothing is new",
  }),
  more: z.boolean().openapi({ description: "True when more entries are ready now" }),
}).openapi("FeedPage");

export function changesApi(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = newApi();
  const { db } = deps.database;
  app.openapi(
    guardedRoute(deps.config, "viewer", {
      method: "get",
      path: "/changes",
      tags: ["Change feed"],
      summary: "The change feed",
      description:
        "Every key that committed runs inserted, updated, re-activated, inactivated, removed or dropped, " +
        "in commit order; previews and held runs are never in it. Page with the opaque cursor next: " +
        "nothing is skipped or repeated while runs commit. Entries removed by retention first answer " +
        "a gap entry {gap: true, from, to, message}. A session with a school context other than 0 " +
        "sees only its school's runs.",
      request: {
        query: z.object({
          since: z.string().max(200).optional().openapi({
            param: { name: "since", in: "query" },
            description: "A cursor of an earlier answer; none: from the start",
          }),
          limit: z.coerce.number().int().min(1).max(FEED_MAX_LIMIT).default(FEED_DEFAULT_LIMIT)
            .openapi({ param: { name: "limit", in: "query" }, type: "integer" }),
        }),
      },
      responses: { 200: jsonBody(FeedPage, "A page of the feed") },
    }),
    async (c) => {
      const { since, limit } = c.req.valid("query");
      const schoolId = c.get("identity")?.schoolId ?? 0;
      try {
        const page = await readFeed(db, {
          ...(since !== undefined ? { since } : {}),
          limit,
          schoolId,
        });
        return c.json(page, 200);
      } catch (error) {
        if (error instanceof BadCursor) throw new HttpError(400, "bad_cursor", error.message);
        throw error;
      }
    },
  );
  return app;
}
