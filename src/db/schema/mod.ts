export * from "./autocomm.ts";
export * from "./sis.ts";
