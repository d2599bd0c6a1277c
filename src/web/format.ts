/**
 * How values are shown on pages: tables, times with their zone, sizes, statuses, and
 * a run's changes with personal values masked (shared with the API and the CLI).
 */
import { IMPORT_TABLES, type ImportTable } from "../sis/catalog.ts";
import { rulesNamed, tableRules } from "../sis/tables/registry.ts";
import { zeroPad } from "../util/time.ts";
import { STATUS_WORDING } from "../pipeline/run_state.ts";

/** What people call each import table (its rules' label). */
export const TABLE_LABELS: Readonly<Record<ImportTable, string>> = Object.fromEntries(
  IMPORT_TABLES.map((t) => [t, tableRules(t).label]),
) as Record<ImportTable, string>;

/** The label of a table name (unknown names as they are), with the mode of a table that has modes. */
export function tableLabel(table: string, mode?: string | null): string {
  const rules = rulesNamed(table);
  const label = rules?.label ?? table;
  return rules?.hasModes && mode ? `${label} (${mode})` : label;
}

export const CHARSET_LABELS: Record<string, string> = {
  "windows-1252": "Windows ANSI",
  "macintosh": "Mac Roman",
  "iso-8859-1": "ISO 8859-1",
  "utf-8": "UTF-8",
};

export const FIELD_DELIMITER_LABELS: Record<string, string> = { tab: "Tab", comma: "Comma" };

export const RECORD_DELIMITER_LABELS: Record<string, string> = {
  CRLF: "CRLF: carriage return, line feed (Windows)",
  CR: "CR: carriage return (Mac)",
  LF: "LF: line feed (Unix)",
};

/** What pages call each run status (`STATUS_WORDING` of `run_state.ts`, the one table of them). */
export const STATUS_LABELS: Record<string, string> = Object.fromEntries(
  Object.entries(STATUS_WORDING).map(([status, wording]) => [status, wording.label]),
);

export const TRIGGER_LABELS: Record<string, string> = {
  schedule: "Schedule",
  run_now: "Run Now",
  webhook: "Webhook",
  api: "API",
  cli: "Command line",
  approval: "Approval",
};

/** Statuses after which a run does not change by itself. */
export function isActiveStatus(status: string): boolean {
  return status === "queued" || status === "running";
}

/** `HH:MM` of a record's schedule. */
export function clock(hour: number, minute: number): string {
  return `${zeroPad(hour)}:${zeroPad(minute)}`;
}

export { localTime } from "../util/time.ts";

/** A byte count for people. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB (${n} bytes)`;
  return `${(n / 1024 / 1024).toFixed(1)} MB (${n} bytes)`;
}

/** Days letters for people: `MTWHF` stays, none says so. */
export function daysText(days: string): string {
  return days === "" ? "no days" : days;
}

/** A change-log key (JSON object of catalog names) as `Name=value, …`. */
export function keyText(key: string): string {
  try {
    const parsed = JSON.parse(key) as Record<string, unknown>;
    return Object.entries(parsed).map(([k, v]) => `${k}=${v}`).join(", ");
  } catch {
    return key;
  }
}

/** What the old and the new value of a personal field are shown as. */
export const PERSONAL_VALUE = "(personal)";

const personalByTable = new Map<string, ReadonlySet<string>>();

/** Catalog names of a table's personal fields (attendance: of both modes); none for an unknown table. */
function personalFields(table: string): ReadonlySet<string> {
  let found = personalByTable.get(table);
  if (found === undefined) {
    const rules = rulesNamed(table);
    found = new Set(
      rules ? rules.catalog("meeting").fields.filter((f) => f.personal).map((f) => f.name) : [],
    );
    personalByTable.set(table, found);
  }
  return found;
}

/**
 * A change log's field changes (JSON object field → [old, new]) with both values of
 * each personal field shown as {@linkcode PERSONAL_VALUE}: how the run page, the
 * API (`/runs/{id}/changes`, a preview) and `autocomm runs show` show them. Text
 * that is not a JSON object is returned as it is.
 */
export function maskPersonalChanges(table: string, changes: string | null): string | null {
  if (!changes) return changes;
  let parsed: unknown;
  try {
    parsed = JSON.parse(changes);
  } catch {
    return changes;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return changes;
  const personal = personalFields(table);
  const shown: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(parsed)) {
    shown[field] = personal.has(field) ? [PERSONAL_VALUE, PERSONAL_VALUE] : value;
  }
  return JSON.stringify(shown);
}

/** A change log's field changes (JSON object field → [old, new]) as text. */
export function changesText(changes: string | null): string {
  if (!changes) return "";
  try {
    const parsed = JSON.parse(changes) as Record<string, unknown>;
    return Object.entries(parsed).map(([field, value]) => {
      if (Array.isArray(value) && value.length === 2) {
        return `${field}: ${value[0] ?? "(blank)"} → ${value[1] ?? "(blank)"}`;
      }
      return `${field}: ${JSON.stringify(value)}`;
    }).join("; ");
  } catch {
    return changes;
  }
}
