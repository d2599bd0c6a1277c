/**
 * The confirmations of a held run's decisions. Approve says in words what applying
 * the kept file will do (the removals in the words of the table's rules, then the
 * inserts and updates), lists every key that will be removed (paged, and as CSV), and
 * asks the editor to type the number of removals (or, with none, to tick a box)
 * before it applies anything. Discard says what discarding does and asks once more.
 */
import { removalSentence } from "../../sis/tables/rules.ts";
import { rulesNamed } from "../../sis/tables/registry.ts";
import type { StoredRecord } from "../../records/store.ts";
import type { Identity } from "../context.ts";
import { keyText } from "../format.ts";
import type { RunRow } from "../queries.ts";
import { Csrf, Pager, Time } from "./components.tsx";
import { formFields } from "./form_fields.tsx";
import { Layout } from "./layout.tsx";
import type { ChangeRow } from "./preview_panel.tsx";

/** The form field that carries the typed number of removals. */
export const CONFIRM_REMOVALS = "confirm_removals";
/** The checkbox that confirms an approval without removals. */
export const CONFIRM_NONE = "confirm_none";

/** What the approval confirmation shows. */
export interface ApprovalPageProps {
  timeZone: string;
  identity: Identity;
  run: RunRow;
  record: StoredRecord | undefined;
  /** One page of the keys the approval will remove. */
  keys: ChangeRow[];
  keyPage: number;
  keyPageSize: number;
  /** What the editor typed, shown again with {@linkcode ApprovalPageProps.error}. */
  typed?: string;
  /** Why the last confirmation was refused. */
  error?: string | undefined;
}

/**
 * What approving `run` will do, in words: "21 students will be transferred out (…);
 * 1 will be inserted; 3 will be updated; 2 rejected rows will not be applied." The removals are said the way the table's
 * rules module says them; the counts are those found when the run was held.
 */
export function approvalWords(run: RunRow): string {
  const rules = rulesNamed(run.table);
  const parts: string[] = [];
  if (run.removed > 0) {
    parts.push(
      rules ? removalSentence(rules.removalWords, run.removed) : `${run.removed} will be removed`,
    );
  }
  if (run.inserted > 0) parts.push(`${run.inserted} will be inserted`);
  if (run.updated > 0) parts.push(`${run.updated} will be updated`);
  if (run.rejected > 0) {
    parts.push(`${run.rejected} rejected row${run.rejected === 1 ? "" : "s"} will not be applied`);
  }
  if (parts.length === 0) return "Nothing will be inserted, updated or removed.";
  const text = parts.join("; ");
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

/** What "remove" means for the run's table, as one sentence. */
export function removalMeaning(table: string): string {
  const rules = rulesNamed(table);
  if (!rules) return "Records missing from the file are removed.";
  const [, many] = rules.removalWords.noun;
  return `For ${rules.label}, “remove” means: ${many} missing from the file will be ${rules.removalWords.effect}.`;
}

/** The approval confirmation of a held run. */
export function ApprovalPage(props: ApprovalPageProps) {
  const { run, identity } = props;
  const title = `Approve held run #${run.id}`;
  const { Row, Check, aria } = formFields({
    errorsOf: (f) =>
      props.error && f === (run.removed > 0 ? CONFIRM_REMOVALS : CONFIRM_NONE) ? [props.error] : [],
    checked: () => false,
  });
  return (
    <Layout
      title={props.error ? `Error: ${title}` : title}
      timeZone={props.timeZone}
      identity={identity}
      breadcrumbs={decisionCrumbs(run, props.record, "Approve")}
    >
      <h1>{title}</h1>
      <section class="approval-summary" aria-labelledby="what-title">
        <h2 id="what-title">What will happen</h2>
        <p class="approval-words">{approvalWords(run)}</p>
        <p>
          {removalMeaning(run.table)} “Today” is the day of the approval. The kept file (
          {run.fileName ? <code>{run.fileName}</code> : "the held file"}) is applied exactly once;
          the counts are those found when it was held on{" "}
          <Time iso={run.endedAt ?? run.queuedAt} zone={props.timeZone} />.
        </p>
        {run.removed > 0
          ? (
            <p>
              <a href="#keys-title">Every key that will be removed</a> is listed below the form.
            </p>
          )
          : ""}
      </section>
      <form method="post" action={`/runs/${run.id}/approve`} class="confirm" novalidate>
        <Csrf token={identity.csrfToken} />
        {run.removed > 0
          ? (
            <Row
              field={CONFIRM_REMOVALS}
              label={`Type the number of records that will be removed (${run.removed}) to confirm`}
            >
              <input
                type="text"
                inputmode="numeric"
                autocomplete="off"
                value={props.typed ?? ""}
                {...aria(CONFIRM_REMOVALS)}
              />
            </Row>
          )
          : (
            <Check
              field={CONFIRM_NONE}
              label="I understand that approving applies the held file now"
            />
          )}
        <div class="buttons">
          <button type="submit" class="button danger">Approve and apply</button>
          <a class="button secondary" href={`/runs/${run.id}`}>Cancel</a>
        </div>
      </form>
      <RemovedKeys {...props} />
    </Layout>
  );
}

/** The breadcrumbs of a decision page: setup, record, run, the decision. */
function decisionCrumbs(run: RunRow, record: StoredRecord | undefined, label: string) {
  return [
    { label: "AutoComm Setup", href: `/?school=${run.schoolId}` },
    ...(record ? [{ label: record.name, href: `/records/${record.id}/runs` }] : []),
    { label: `Run #${run.id}`, href: `/runs/${run.id}` },
    { label },
  ];
}

/** The keys that will be removed, one page of them, and their CSV download. */
function RemovedKeys(props: ApprovalPageProps) {
  const { run } = props;
  if (run.removed === 0) return null;
  const first = (props.keyPage - 1) * props.keyPageSize;
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">Keys that will be removed ({run.removed})</h2>
      <p>
        <a class="button secondary" href={`/runs/${run.id}/removals.csv`} download>
          Download the keys that will be removed (CSV)
        </a>
      </p>
      <ol
        class="keys"
        start={first + 1}
        aria-label={`Keys ${first + 1} to ${first + props.keys.length}`}
      >
        {props.keys.map((k) => (
          <li>
            <code>{keyText(k.key)}</code>
          </li>
        ))}
      </ol>
      <Pager
        page={props.keyPage}
        pageSize={props.keyPageSize}
        total={run.removed}
        href={(p) => `/runs/${run.id}/approve?page=${p}#keys-title`}
        label="Pages of keys that will be removed"
      />
    </section>
  );
}

/** The discard confirmation of a held run. */
export function DiscardPage(
  props: { timeZone: string; identity: Identity; run: RunRow; record: StoredRecord | undefined },
) {
  const { run, identity } = props;
  const title = `Discard held run #${run.id}`;
  return (
    <Layout
      title={title}
      timeZone={props.timeZone}
      identity={identity}
      breadcrumbs={decisionCrumbs(run, props.record, "Discard")}
    >
      <h1>{title}</h1>
      <p>
        Discarding deletes the kept file{run.fileName
          ? (
            <>
              {" "}(<code>{run.fileName}</code>)
            </>
          )
          : ""} and applies nothing: {approvalWords(run).replace(/\.$/, "")}{" "}
        — none of it happens. The record's next run reads its file again.
      </p>
      <form method="post" action={`/runs/${run.id}/discard`} class="confirm">
        <Csrf token={identity.csrfToken} />
        <div class="buttons">
          <button type="submit" class="button danger">Discard the held run</button>
          <a class="button secondary" href={`/runs/${run.id}`}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
