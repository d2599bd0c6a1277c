/**
 * The Field List: a table's catalog and extension fields with each field's facts
 * (type, maximum length, allowed codes, match key, needed to create, personal). Two
 * forms show the same facts: the page `/fields/:table` (no JavaScript needed, a GET
 * filter) and the pop-up of the record form ({@linkcode FieldListDialog}, filled by
 * the script in src/web/assets.ts from `/api/v1/catalog/{table}`).
 *
 * The filter matches by words: a field is shown when every word of the query is
 * somewhere in its name or description (case-insensitive, any order).
 */
import type { CatalogField, TableCatalog } from "../../sis/catalog.ts";
import { IMPORT_TABLES } from "../../sis/catalog.ts";
import type { Identity } from "../context.ts";
import { TABLE_LABELS } from "../format.ts";
import { TableScroll } from "./components.tsx";
import { Layout } from "./layout.tsx";

/** What the page shows. */
export interface FieldListProps {
  timeZone: string;
  identity: Identity;
  catalog: TableCatalog;
  mode: "daily" | "meeting";
  filter: string;
}

/** Fields whose name or description has every word of `filter`. */
export function filterFields(catalog: TableCatalog, filter: string): CatalogField[] {
  const terms = filter.toLowerCase().split(/\s+/).filter((t) => t !== "");
  return catalog.fields.filter((f) => {
    const text = `${f.name} ${f.description}`.toLowerCase();
    return terms.every((t) => text.includes(t));
  });
}

/** A field type in words (the pop-up's script uses the same words). */
export const FIELD_TYPE_LABELS: Record<CatalogField["type"], string> = {
  text: "Text",
  integer: "Whole number",
  decimal: "Number",
  date: "Date",
  boolean: "Yes/No",
  code: "Code",
};

/** A field's type with its maximum length and codes: "Text, max 50" or "Code: A, B". */
export function typeText(f: Pick<CatalogField, "type" | "maxLength" | "codes">): string {
  return `${FIELD_TYPE_LABELS[f.type]}${f.maxLength ? `, max ${f.maxLength}` : ""}${
    f.codes ? `: ${f.codes.join(", ")}` : ""
  }`;
}

/** A field's flags in words: "Match key", "Needed to create", "Personal". */
export function flagTexts(
  f: Pick<CatalogField, "key" | "requiredToCreate" | "personal">,
): string[] {
  return [
    f.key ? "Match key" : "",
    f.requiredToCreate ? "Needed to create" : "",
    f.personal ? "Personal" : "",
  ].filter((s) => s !== "");
}

export function FieldList(props: FieldListProps) {
  const { catalog } = props;
  const shown = filterFields(catalog, props.filter);
  return (
    <Layout
      title={`${catalog.label} Field List`}
      timeZone={props.timeZone}
      identity={props.identity}
      breadcrumbs={[{ label: "AutoComm Setup", href: "/" }, {
        label: `${catalog.label} Field List`,
      }]}
    >
      <h1>{catalog.label} Field List</h1>
      <p>
        {catalog.rowDescription}. Match key:{" "}
        <code>{catalog.key.join(" + ")}</code>. Type these names into “PowerSchool fields to import
        into”, one per line, in the order of the file's columns.
      </p>
      <FieldListFilter {...props} />
      <p class="small muted" role="status">{shown.length} of {catalog.fields.length} fields</p>
      <TableScroll label={`Fields of ${catalog.label}`}>
        <table class="list compact field-table">
          <caption class="visually-hidden">Fields of {catalog.label}</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Type</th>
              <th scope="col">Flags</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((f) => (
              <tr>
                <td>
                  <code>{f.name}</code>
                </td>
                <td>{typeText(f)}</td>
                <td>{flagTexts(f).join(", ")}</td>
                <td>{f.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </Layout>
  );
}

/** The page's GET filter: table, attendance mode and the words to look for. */
function FieldListFilter(props: FieldListProps) {
  return (
    <form method="get" action={`/fields/${props.catalog.table}`} class="filters">
      <label for="fl-table">Table</label>
      <select id="fl-table" name="table">
        {IMPORT_TABLES.map((t) => (
          <option value={t} selected={t === props.catalog.table}>{TABLE_LABELS[t]}</option>
        ))}
      </select>
      <label for="fl-mode">Attendance mode</label>
      <select id="fl-mode" name="mode">
        <option value="daily" selected={props.mode === "daily"}>Daily</option>
        <option value="meeting" selected={props.mode === "meeting"}>Meeting</option>
      </select>
      <label for="fl-filter">Filter</label>
      <input id="fl-filter" type="search" name="filter" value={props.filter} />
      <button type="submit" class="button secondary">Show</button>
    </form>
  );
}

/**
 * The record form's Field List pop-up (opened by the Field List link; the script
 * fills it). It stays open for several picks: each pick appends the field to the
 * field list and marks it as added; Done or Escape closes it and focus returns to
 * the field list.
 */
export function FieldListDialog() {
  return (
    <dialog id="field-list" class="field-list-dialog" aria-labelledby="field-list-title">
      <div class="dialog-head">
        <h2 id="field-list-title">Field List</h2>
        <button type="button" class="button" data-close>Done</button>
      </div>
      <p class="hint" id="field-list-help">
        Pick fields in the order of the file's columns; each pick is added to the end of the list.
        Words typed in Filter are matched against names and descriptions.
      </p>
      <label for="field-filter">Filter</label>
      <input
        id="field-filter"
        type="search"
        autocomplete="off"
        aria-controls="field-list-items"
        aria-describedby="field-list-help field-list-status"
      />
      <p id="field-list-status" class="small muted" aria-live="polite"></p>
      <ul id="field-list-items" class="field-items"></ul>
    </dialog>
  );
}
