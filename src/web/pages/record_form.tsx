/**
 * The New / Edit form of an AutoComm record: every field of the setup page,
 * labelled as users know them, plus ours. Problems from the record rules show in a
 * summary at the top (linking to each field) and beside each field, with what the
 * user typed kept.
 */
import { formFields } from "./form_fields.tsx";
import type { FieldProblem } from "../../records/validate.ts";
import {
  allowedModes,
  CHARSETS,
  FIELD_DELIMITERS,
  RECORD_DELIMITERS,
} from "../../records/validate.ts";
import { IMPORT_TABLES } from "../../sis/catalog.ts";
import { zeroPad } from "../../util/time.ts";
import type { Identity } from "../context.ts";
import {
  CHARSET_LABELS,
  FIELD_DELIMITER_LABELS,
  RECORD_DELIMITER_LABELS,
  TABLE_LABELS,
  tableLabel,
} from "../format.ts";
import type { SchoolRow } from "../queries.ts";
import type { RecordFormValues } from "../record_input.ts";
import { Csrf } from "./components.tsx";
import { FieldListDialog } from "./field_list.tsx";
import { Layout } from "./layout.tsx";
import { PreviewPanel, type PreviewResult } from "./preview_panel.tsx";

/** What people call each field of the form (also used in the error summary). */
export const FIELD_LABELS: Record<string, string> = {
  schoolId: "School",
  name: "Name",
  table: "Table to Import",
  attendanceMode: "Attendance mode",
  hour: "When to Execute (hour)",
  minute: "When to Execute (minute)",
  days: "Days to Execute",
  executionOff: "Turn Execution Off",
  source: "Get Input From",
  connectionId: "Managed connection",
  path: "Path",
  fieldDelimiter: "Field Delimiter",
  recordDelimiter: "Record Delimiter",
  charset: "Character Set",
  sortOrder: "Sort Order",
  synchronize: "Synchronize Mode",
  updateExisting: "Update existing records",
  inactivateExited: "Mark students and their schedules inactive",
  expectRecordCount: "First record of file is number_of_records=",
  emailTo: "E-Mail completion report to",
  fields: "PowerSchool fields to import into",
  ignoreBlankCells: "Ignore blank cells",
  removalLimitPercent: "Removal limit",
  minFileAgeSeconds: "Minimum file age",
};

/** Options of {@linkcode RecordForm}. */
export interface RecordFormProps {
  mode: "new" | "edit";
  recordId?: number;
  timeZone: string;
  identity: Identity;
  school: SchoolRow;
  values: RecordFormValues;
  problems: FieldProblem[];
  /** Connections with download enabled; none hides the managed choice. */
  connections: { id: number; name: string }[];
  /** The service's default minimum file age, in seconds. */
  defaultMinFileAge: number;
  preview?: PreviewResult | undefined;
}

/** The helpers of {@linkcode formFields} for the record form. */
type FormKit = ReturnType<typeof formFields>;

/** What every field group of the record form is given. */
interface GroupProps {
  kit: FormKit;
  values: RecordFormValues;
}

/**
 * The record form. Its field groups: the record itself (name, table, attendance mode),
 * its schedule, where the file comes from and how it is written, the import options,
 * and the completion report with the field mapping.
 */
export function RecordForm(props: RecordFormProps) {
  const { values, school } = props;
  // A problem of a field the form does not show goes with the nearest one shown.
  const target = (field: string) =>
    field === "connectionId" && props.connections.length === 0 ? "source" : field;
  const errorsOf = (field: string) =>
    props.problems.filter((p) => target(p.field) === field).map((p) => p.message);
  const kit = formFields({
    errorsOf,
    checked: (field) => values[field as keyof RecordFormValues] === true,
  });
  const district = school.schoolNumber === 0;
  const title = props.mode === "new"
    ? "New AutoComm Record"
    : `Edit AutoComm Record: ${values.name}`;
  const action = props.mode === "new" ? "/records" : `/records/${props.recordId}`;
  const listHref = `/?school=${school.schoolNumber}`;

  return (
    <Layout
      title={props.problems.length > 0 ? `Error: ${title}` : title}
      timeZone={props.timeZone}
      identity={props.identity}
      script
      breadcrumbs={[
        { label: "AutoComm Setup", href: listHref },
        { label: props.mode === "new" ? "New" : values.name || "Edit" },
      ]}
    >
      <h1>{title}</h1>
      <p class="muted">
        School context:{" "}
        {school.schoolNumber === 0 ? "District Office" : `${school.name} (${school.schoolNumber})`}
      </p>
      <RecordErrorSummary problems={props.problems} target={target} />

      <form method="post" action={action} class="record-form" novalidate>
        <Csrf token={props.identity.csrfToken} />
        {props.mode === "new"
          ? <input type="hidden" name="schoolId" value={String(school.schoolNumber)} />
          : ""}

        <fieldset>
          <legend>Record</legend>
          <TableFields kit={kit} values={values} school={school} />
          <ScheduleFields kit={kit} values={values} timeZone={props.timeZone} />
        </fieldset>

        <fieldset>
          <legend>Input file</legend>
          <SourceFields kit={kit} values={values} connections={props.connections} />
          <FileFormatFields kit={kit} values={values} />
        </fieldset>

        <fieldset>
          <legend>Import options</legend>
          <ImportOptionFields
            kit={kit}
            values={values}
            defaultMinFileAge={props.defaultMinFileAge}
          />
        </fieldset>

        <fieldset>
          <legend>Report and fields</legend>
          <ReportFields
            kit={kit}
            values={values}
            duplicable={props.mode === "new" && !district}
          />
        </fieldset>

        <div class="buttons">
          <button type="submit" class="button">Submit</button>
          <button
            type="submit"
            class="button secondary"
            formaction={props.mode === "new"
              ? "/records/preview#preview-result"
              : `/records/preview?record=${props.recordId}#preview-result`}
            aria-describedby="h-form-preview"
          >
            Preview {props.mode === "new" ? "before saving" : "these settings"}
          </button>
          <a href={listHref} class="button secondary">Cancel</a>
        </div>
        <p class="hint" id="h-form-preview">
          Preview reads the file with the settings above, through every check, and shows what would
          change; nothing is saved or imported. It reads the file as it is, even if it changed
          within the minimum file age.
        </p>
      </form>

      <FieldListDialog />

      {props.mode === "edit"
        ? (
          <RecordPreviewSection
            recordId={props.recordId}
            identity={props.identity}
            timeZone={props.timeZone}
            preview={props.preview}
          />
        )
        : props.preview
        ? (
          <section class="preview" aria-labelledby="preview-title">
            <h2 id="preview-title">Preview of the unsaved record</h2>
            <PreviewPanel {...props.preview} timeZone={props.timeZone} />
          </section>
        )
        : ""}
    </Layout>
  );
}

/** The problems of the form at its top, each linking to the field it belongs with. */
function RecordErrorSummary(
  props: { problems: FieldProblem[]; target: (field: string) => string },
) {
  if (props.problems.length === 0) return null;
  return (
    <div
      class="error-summary"
      role="alert"
      aria-labelledby="error-summary-title"
      tabindex={-1}
      id="error-summary"
    >
      <h2 id="error-summary-title">There is a problem with this record</h2>
      <ul>
        {props.problems.map((p) => (
          <li>
            <a href={`#f-${props.target(p.field)}`}>
              {FIELD_LABELS[p.field] ?? p.field}: {p.message}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Name, table and attendance mode. The District Office imports Students and Teachers
 * only (a stored other table is still shown, selected, so an edit does not change it);
 * the attendance modes offered are the school's.
 */
function TableFields(props: GroupProps & { school: SchoolRow }) {
  const { kit: { aria, Row }, values } = props;
  const district = props.school.schoolNumber === 0;
  const tables = district ? (["students", "teachers"] as const) : IMPORT_TABLES;
  const modes = allowedModes(props.school.attendanceMethod);
  return (
    <>
      <Row field="name" label="Name">
        <input
          type="text"
          value={values.name}
          maxlength={200}
          autocomplete="off"
          {...aria("name")}
        />
      </Row>
      <Row
        field="table"
        label="Table to Import"
        hint={district ? "District Office: Students or Teachers only." : undefined}
      >
        <select {...aria("table", district)}>
          {(IMPORT_TABLES as readonly string[]).includes(values.table) &&
              !(tables as readonly string[]).includes(values.table)
            ? (
              <option value={values.table} selected>
                {TABLE_LABELS[values.table as "students"]}
              </option>
            )
            : ""}
          {tables.map((t) => (
            <option value={t} selected={values.table === t}>{TABLE_LABELS[t]}</option>
          ))}
        </select>
      </Row>
      {district ? "" : (
        <Row
          field="attendanceMode"
          label="Attendance mode"
          hint={`Attendance records only. This school records attendance by ${
            modes.join(" and ")
          } (Attendance Preferences).`}
        >
          <select {...aria("attendanceMode", true)}>
            {modes.length > 1
              ? <option value="" selected={values.attendanceMode === ""}>Choose…</option>
              : ""}
            {modes.map((m) => (
              <option value={m} selected={values.attendanceMode === m || modes.length === 1}>
                {m === "daily" ? "Daily attendance" : "Meeting attendance"}
              </option>
            ))}
          </select>
        </Row>
      )}
    </>
  );
}

/** When the schedule runs the record: hour and minute (service time), days, or never. */
function ScheduleFields(props: GroupProps & { timeZone: string }) {
  const { kit: { aria, FieldErrors, Row, Check }, values } = props;
  const { errorsOf } = props.kit;
  return (
    <>
      <div
        class={`row${errorsOf("hour").length + errorsOf("minute").length > 0 ? " has-error" : ""}`}
        id="row-hour"
      >
        <span class="label" id="when-label">When to Execute</span>
        <div class="control" role="group" aria-labelledby="when-label">
          <FieldErrors field="hour" />
          <FieldErrors field="minute" />
          <label for="f-hour" class="visually-hidden">Hour</label>
          <select {...aria("hour", true)}>
            {Array.from(
              { length: 24 },
              (_, h) => (
                <option value={String(h)} selected={values.hour === String(h)}>
                  {zeroPad(h)}
                </option>
              ),
            )}
          </select>
          <span aria-hidden="true">:</span>
          <label for="f-minute" class="visually-hidden">Minute</label>
          <select {...aria("minute", true)}>
            {Array.from(
              { length: 60 },
              (_, m) => (
                <option value={String(m)} selected={values.minute === String(m)}>
                  {zeroPad(m)}
                </option>
              ),
            )}
          </select>{" "}
          <span class="zone">{props.timeZone}</span>
          <p class="hint" id="h-hour">
            Local time of the service. At minute 00 the record runs after the hourly process, within
            that hour.
          </p>
          <p class="hint visually-hidden" id="h-minute">Minute of the hour</p>
        </div>
      </div>
      <Row
        field="days"
        label="Days to Execute"
        hint="Letters from MTWHFSU: Monday … Sunday (H is Thursday, U is Sunday), e.g. MTWHF."
      >
        <input
          type="text"
          value={values.days}
          class="short"
          autocomplete="off"
          spellcheck={false}
          {...aria("days", true)}
        />
      </Row>
      <Check
        field="executionOff"
        label="Turn Execution Off"
        hint="The schedule never runs this record; Run Now still works."
      />
    </>
  );
}

/**
 * Where the file comes from: the local (or shared) folder or a managed connection,
 * and its path. The managed choice shows only while a connection allows download (or
 * the record already uses one).
 */
function SourceFields(props: GroupProps & { connections: { id: number; name: string }[] }) {
  const { kit: { aria, Row }, values } = props;
  const managed = props.connections.length > 0;
  return (
    <>
      <Row field="source" label="Get Input From">
        <select {...aria("source")}>
          <option value="local" selected={values.source !== "managed"}>
            Local (or network shared) File System
          </option>
          {managed || values.source === "managed"
            ? (
              <option value="managed" selected={values.source === "managed"}>
                Managed Connection
              </option>
            )
            : ""}
        </select>
      </Row>
      {managed
        ? (
          <Row
            field="connectionId"
            label="Managed connection"
            hint="Only connections with download enabled are listed."
          >
            <select {...aria("connectionId", true)}>
              <option value="" selected={values.connectionId === ""}>Choose…</option>
              {props.connections.map((c) => (
                <option value={String(c.id)} selected={values.connectionId === String(c.id)}>
                  {c.name}
                </option>
              ))}
            </select>
          </Row>
        )
        : ""}
      <Row
        field="path"
        label="Path"
        hint={
          <>
            Relative to the import folder (or the connection's login folder), for example{" "}
            <code>test\test.txt</code> or <code>test.txt</code>. <code>{"{school}"}</code>{" "}
            becomes the school number.
          </>
        }
      >
        <input
          type="text"
          value={values.path}
          class="wide"
          autocomplete="off"
          spellcheck={false}
          {...aria("path", true)}
        />
      </Row>
    </>
  );
}

/** How the file is written: field and record delimiters and character set. */
function FileFormatFields(props: GroupProps) {
  const { kit: { aria, Row }, values } = props;
  return (
    <>
      <Row field="fieldDelimiter" label="Field Delimiter">
        <select {...aria("fieldDelimiter")}>
          {FIELD_DELIMITERS.map((d) => (
            <option value={d} selected={values.fieldDelimiter === d}>
              {FIELD_DELIMITER_LABELS[d]}
            </option>
          ))}
        </select>
      </Row>
      <Row field="recordDelimiter" label="Record Delimiter">
        <select {...aria("recordDelimiter")}>
          {RECORD_DELIMITERS.map((d) => (
            <option value={d} selected={values.recordDelimiter === d}>
              {RECORD_DELIMITER_LABELS[d]}
            </option>
          ))}
        </select>
      </Row>
      <Row field="charset" label="Character Set">
        <select {...aria("charset")}>
          {CHARSETS.map((cs) => (
            <option value={cs} selected={values.charset === cs}>{CHARSET_LABELS[cs]}</option>
          ))}
        </select>
      </Row>
    </>
  );
}

/**
 * How the import treats the file and the existing records: sort order, Synchronize
 * Mode (with its removal limit), updates, exits, the record count line, blank cells
 * and the minimum file age.
 */
function ImportOptionFields(props: GroupProps & { defaultMinFileAge: number }) {
  const { kit: { aria, Row, Check }, values } = props;
  return (
    <>
      <Row
        field="sortOrder"
        label="Sort Order"
        hint="Order on the AutoComm Setup page and among records due in the same minute. Blank: alphabetical by name, after the numbered ones."
      >
        <input
          type="text"
          inputmode="numeric"
          value={values.sortOrder}
          class="short"
          {...aria("sortOrder", true)}
        />
      </Row>
      <SynchronizeField kit={props.kit} />
      <Check
        field="updateExisting"
        label="Update existing records with imported data (when applicable)"
        hint="Existing records take the file's values; without it they are left as they are."
      />
      <Check
        field="inactivateExited"
        label="Mark students and their schedules inactive when their exit date is <= today"
      />
      <Check
        field="expectRecordCount"
        label="First record of file is number_of_records="
        hint="The file is imported only if the count in its first line matches its records (recommended)."
      />
      <Check
        field="ignoreBlankCells"
        label="Ignore blank cells"
        hint="A blank cell leaves the existing value; without it a blank clears an optional field."
      />
      <Row
        field="removalLimitPercent"
        label="Removal limit (%)"
        hint="Synchronize Mode holds a run for approval when it would remove at least 5 records and more than this share of the active ones."
      >
        <input
          type="text"
          inputmode="numeric"
          value={values.removalLimitPercent}
          class="short"
          {...aria("removalLimitPercent", true)}
        />
      </Row>
      <Row
        field="minFileAgeSeconds"
        label="Minimum file age (seconds)"
        hint={`A file changed more recently is still being written, so the run waits. Blank: the service default (${props.defaultMinFileAge} s).`}
      >
        <input
          type="text"
          inputmode="numeric"
          value={values.minFileAgeSeconds}
          class="short"
          {...aria("minFileAgeSeconds", true)}
        />
      </Row>
    </>
  );
}

/** Synchronize Mode, with its warning: records not in the file are dropped or removed. */
function SynchronizeField(props: { kit: FormKit }) {
  const { Check } = props.kit;
  return (
    <Check
      field="synchronize"
      label="Synchronize Mode"
      warn={
        <>
          <strong>For advanced users only.</strong>{" "}
          Records of this table not in the file are dropped, transferred out or removed. Check with
          your SIS administrator before turning it on.
        </>
      }
    />
  );
}

/**
 * Who gets the completion report, the SIS fields the file's columns go into (with a
 * link to the table's field list), and for a new school record the copy to every school.
 */
function ReportFields(props: GroupProps & { duplicable: boolean }) {
  const { kit: { aria, Row, Check }, values } = props;
  const fieldListTable = (IMPORT_TABLES as readonly string[]).includes(values.table)
    ? values.table
    : "students";
  const fieldListHref = `/fields/${fieldListTable}${
    fieldListTable === "attendance" && values.attendanceMode
      ? `?mode=${encodeURIComponent(values.attendanceMode)}`
      : ""
  }`;
  return (
    <>
      <Row
        field="emailTo"
        label="E-Mail completion report to"
        hint="Separate addresses with commas."
      >
        <input
          type="text"
          value={values.emailTo}
          class="wide"
          autocomplete="off"
          {...aria("emailTo", true)}
        />
      </Row>
      <Row
        field="fields"
        label="PowerSchool fields to import into"
        hint={
          <>
            One field per line, in the order of the file's columns. Extension fields as{" "}
            <code>[extension name].[field]</code>.{" "}
            <a href={fieldListHref} target="_blank" rel="noopener" data-field-list>
              Field List ({tableLabel(fieldListTable)})
            </a>
          </>
        }
      >
        <textarea rows={10} spellcheck={false} autocomplete="off" {...aria("fields", true)}>
          {values.fields}
        </textarea>
      </Row>
      {props.duplicable
        ? (
          <Check
            field="duplicateToAllSchools"
            label="Duplicate this AutoComm record to all schools on this server"
            hint="Creates the same record in every school's context."
          />
        )
        : ""}
    </>
  );
}

/** An edited record's Preview button and result, with links to its runs and Delete. */
function RecordPreviewSection(props: {
  recordId: number | undefined;
  identity: Identity;
  timeZone: string;
  preview: PreviewResult | undefined;
}) {
  return (
    <section class="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <p class="hint">
        Runs the saved record's file through every check without changing anything, and shows what
        would change.
      </p>
      <form method="post" action={`/records/${props.recordId}/preview`} class="inline">
        <Csrf token={props.identity.csrfToken} />
        <button type="submit" class="button secondary">Preview the saved record</button>
      </form>{" "}
      <a href={`/records/${props.recordId}/runs`}>Runs of this record</a>
      {" · "}
      <a href={`/records/${props.recordId}/delete`}>Delete this record</a>
      {props.preview ? <PreviewPanel {...props.preview} timeZone={props.timeZone} /> : ""}
    </section>
  );
}
