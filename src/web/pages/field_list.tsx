/** The Field List page: a table's catalog and extension fields, with a filter (no JavaScript needed). */
import type { TableCatalog } from "../../sis/catalog.ts";
import { IMPORT_TABLES } from "../../sis/catalog.ts";
import type { Identity } from "../context.ts";
import { TABLE_LABELS } from "../format.ts";
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
export function filterFields(catalog: TableCatalog, filter: string) {
  const terms = filter.toLowerCase().split(/\s+/).filter((t) => t !== "");
  return catalog.fields.filter((f) => {
    const text = `${f.name} ${f.description}`.toLowerCase();
    return terms.every((t) => text.includes(t));
  });
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
      <form method="get" action={`/fields/${catalog.table}`} class="filters">
        <label for="fl-table">Table</label>
        <select id="fl-table" name="table">
          {IMPORT_TABLES.map((t) => (
            <option value={t} selected={t === catalog.table}>{TABLE_LABELS[t]}</option>
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
      <p class="small muted" role="status">{shown.length} of {catalog.fields.length} fields</p>
      <table class="list compact">
        <caption class="visually-hidden">Fields of {catalog.label}</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Needed</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((f) => (
            <tr>
              <td>
                <code>{f.name}</code>
              </td>
              <td>
                {f.type}
                {f.maxLength ? ` (${f.maxLength})` : ""}
                {f.codes ? `: ${f.codes.join(", ")}` : ""}
              </td>
              <td>
                {[
                  f.key ? "match key" : "",
                  f.requiredToCreate ? "to create" : "",
                  f.personal ? "personal" : "",
                ]
                  .filter((s) => s !== "").join(", ")}
              </td>
              <td>{f.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
