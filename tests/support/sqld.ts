/**
 * A real libSQL server for tests (`sqld`): the start function lives in `bench/sqld.ts`,
 * where `deno task bench --remote` starts one too.
 */
export * from "../../bench/sqld.ts";
