/**
 * The HTTP application: createApp(deps) joins the sub-apps. Handlers sit right
 * after their routes; one onError maps errors to responses (JSON for the API, a
 * page for pages).
 */
import { Hono } from "hono";
import { eq } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { schools } from "../db/schema/sis.ts";
import type { Logger } from "../log.ts";
import { listRecords } from "../records/store.ts";
import { VERSION } from "../version.ts";
import { APP_CSS } from "./assets.ts";
import { SetupList } from "./pages/setup_list.tsx";

/** What the application needs. */
export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { db } = deps.database;

  app.get("/healthz", async (c) => {
    let database: "ok" | "unavailable" = "ok";
    try {
      await deps.database.client.execute("SELECT 1");
    } catch {
      database = "unavailable";
    }
    return c.json(
      { status: database === "ok" ? "ok" : "degraded", version: VERSION, database },
      database === "ok" ? 200 : 503,
    );
  });

  app.get("/assets/app.css", (c) =>
    c.body(APP_CSS, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=3600",
    }));

  app.get("/", async (c) => {
    const schoolParam = Number(c.req.query("school") ?? "0");
    const schoolNumber = Number.isInteger(schoolParam) ? schoolParam : 0;
    const [school] = await db.select().from(schools).where(eq(schools.schoolNumber, schoolNumber));
    const records = await listRecords(db, schoolNumber);
    return c.html(SetupList({
      timeZone: deps.config.timeZone,
      school: school ?? { schoolNumber, name: `School ${schoolNumber}` },
      records,
    }));
  });

  app.onError((error, c) => {
    deps.logger.error("request_failed", { path: c.req.path, error: String(error) });
    if (c.req.path.startsWith("/api/")) {
      return c.json({ error: { code: "internal", message: "Something went wrong" } }, 500);
    }
    return c.html("<h1>Something went wrong</h1>", 500);
  });
  return app;
}
