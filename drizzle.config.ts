// drizzle-kit configuration: `deno task db:generate` writes migrations/ from src/db/schema.
export default {
  dialect: "sqlite",
  schema: "./src/db/schema/mod.ts",
  out: "./migrations",
};
