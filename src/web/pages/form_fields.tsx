/**
 * The building blocks of the server-rendered forms (records, connections): a row with
 * its label, problems and hint, a checkbox row, the problems of a field, and the ids
 * and ARIA attributes that tie a control to its problems and hint.
 */
import type { Child } from "hono/jsx";

/** What {@linkcode formFields} needs of a form. */
export interface FormFieldsOptions {
  /** The problem messages of a field. */
  errorsOf: (field: string) => string[];
  /** Whether a checkbox field is checked. */
  checked: (field: string) => boolean;
}

/** The row, checkbox, problem and ARIA helpers of one form. */
export function formFields({ errorsOf, checked }: FormFieldsOptions) {
  const aria = (field: string, hint = false) => {
    const errors = errorsOf(field);
    const ids = [errors.length > 0 ? `e-${field}` : "", hint ? `h-${field}` : ""].filter((s) =>
      s !== ""
    );
    return {
      id: `f-${field}`,
      name: field,
      ...(errors.length > 0 ? { "aria-invalid": "true" } : {}),
      ...(ids.length > 0 ? { "aria-describedby": ids.join(" ") } : {}),
    };
  };
  const FieldErrors = (p: { field: string }) => {
    const errors = errorsOf(p.field);
    if (errors.length === 0) return <span></span>;
    return (
      <p class="field-error" id={`e-${p.field}`}>
        {errors.map((e) => (
          <span class="error-line">
            <span class="visually-hidden">Error:</span> {e}
          </span>
        ))}
      </p>
    );
  };
  const Row = (p: { field: string; label: string; hint?: Child; children?: Child }) => (
    <div
      class={`row${errorsOf(p.field).length > 0 ? " has-error" : ""}`}
      id={`row-${p.field}`}
      data-row={p.field}
    >
      <label for={`f-${p.field}`}>{p.label}</label>
      <div class="control">
        <FieldErrors field={p.field} />
        {p.children}
        {p.hint ? <p class="hint" id={`h-${p.field}`}>{p.hint}</p> : ""}
      </div>
    </div>
  );
  const Check = (p: { field: string; label: string; hint?: Child; warn?: Child }) => (
    <div
      class={`row check${errorsOf(p.field).length > 0 ? " has-error" : ""}`}
      id={`row-${p.field}`}
    >
      <span class="label-spacer"></span>
      <div class="control">
        <FieldErrors field={p.field} />
        <input
          type="checkbox"
          value="on"
          checked={checked(p.field)}
          {...aria(p.field, p.hint !== undefined || p.warn !== undefined)}
        />{" "}
        <label for={`f-${p.field}`}>{p.label}</label>
        {p.warn ? <p class="warning" id={`h-${p.field}`}>{p.warn}</p> : ""}
        {p.hint && !p.warn ? <p class="hint" id={`h-${p.field}`}>{p.hint}</p> : ""}
      </div>
    </div>
  );
  return { aria, FieldErrors, Row, Check, errorsOf };
}
