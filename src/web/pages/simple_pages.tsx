/** Small pages: delete confirmation, "already running", sign-in. */
import type { StoredRecord } from "../../records/store.ts";
import type { Identity } from "../context.ts";
import { tableLabel } from "../format.ts";
import { Csrf, Notice } from "./components.tsx";
import { Layout } from "./layout.tsx";

/** Asks before deleting a record. */
export function DeleteConfirm(
  props: { timeZone: string; identity: Identity; record: StoredRecord; schoolName: string },
) {
  const r = props.record;
  return (
    <Layout
      title={`Delete ${r.name}`}
      timeZone={props.timeZone}
      identity={props.identity}
      breadcrumbs={[{ label: "AutoComm Setup", href: `/?school=${r.schoolId}` }, {
        label: `Delete ${r.name}`,
      }]}
    >
      <h1>Delete the AutoComm record “{r.name}”?</h1>
      <p>
        {tableLabel(r.table, r.attendanceMode)} record of {props.schoolName}, reading{" "}
        <code>{r.path}</code>. It will no longer run. Its runs stay as history.
      </p>
      <form method="post" action={`/records/${r.id}/delete`} class="buttons">
        <Csrf token={props.identity.csrfToken} />
        <button type="submit" class="button danger">Delete</button>
        <a class="button secondary" href={`/?school=${r.schoolId}`}>Cancel</a>
      </form>
    </Layout>
  );
}

/** Run Now on a record that is already running. */
export function AlreadyRunning(
  props: { timeZone: string; identity: Identity; record: StoredRecord; runId: number },
) {
  return (
    <Layout
      title="Already running"
      timeZone={props.timeZone}
      identity={props.identity}
      breadcrumbs={[
        { label: "AutoComm Setup", href: `/?school=${props.record.schoolId}` },
        { label: props.record.name },
      ]}
    >
      <h1>“{props.record.name}” is already running</h1>
      <Notice kind="warn">
        A record runs one at a time. <a href={`/runs/${props.runId}`}>See run #{props.runId}</a>
        {" "}
        and try again when it has finished.
      </Notice>
      <p>
        <a href={`/?school=${props.record.schoolId}`}>Back to AutoComm Setup</a>
      </p>
    </Layout>
  );
}

/**
 * The sign-in page: "Sign in with <provider>" when OpenID Connect is configured, how
 * to open AutoComm from the host, and how to get a local administrator link (unless
 * that link is turned off).
 */
export function SignIn(
  props: {
    hostConfigured: boolean;
    signedOut?: boolean;
    provider?: string | undefined;
    next?: string;
    adminLink?: boolean;
  },
) {
  return (
    <Layout title="Sign in">
      <h1>Sign in to AutoComm</h1>
      {props.signedOut ? <Notice>You are signed out.</Notice> : ""}
      {props.provider
        ? (
          <p>
            <a class="button" href={`/oidc/login?next=${encodeURIComponent(props.next ?? "/")}`}>
              Sign in with {props.provider}
            </a>
          </p>
        )
        : ""}
      {props.hostConfigured
        ? (
          <p class="lead">
            Open AutoComm from your student information system (System → Data Management → AutoComm
            Setup); it signs you in with your role there.
          </p>
        )
        : ""}
      {props.adminLink === false ? "" : (
        <>
          <h2>Local administrator</h2>
          <p>
            On the server, in the service's folder, run
          </p>
          <pre><code>deno task autocomm admin-link</code></pre>
          <p>
            and open the link it prints. A link works once and for 15 minutes, and signs you in as
            the local administrator. The first start of a new service prints one by itself.
          </p>
        </>
      )}
    </Layout>
  );
}

/** The page a sign-in link opens: one button, so link previews cannot use the link up. */
export function SignInLink(props: { token: string; next: string }) {
  return (
    <Layout title="Sign in">
      <h1>Sign in as the local administrator</h1>
      <form method="post" action="/signin/link">
        <input type="hidden" name="token" value={props.token} />
        <input type="hidden" name="next" value={props.next} />
        <button type="submit" class="button">Sign in</button>
      </form>
    </Layout>
  );
}
