// drizzle-kit configuration: `deno task db:generate` writes migrations/ from the schema:
// AutoComm's tables (src/db/schema) and the SIS tables (src/sis/schema.ts, built from the
// field catalog).
export default {
  dialect: "sqlite",
  schema: ["./src/db/schema/autocomm.ts", "./src/sis/schema.ts"],
  out: "./migrations",
};
