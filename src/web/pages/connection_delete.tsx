/**
 * Asks before deleting a managed connection; a connection records still use cannot be
 * deleted, and the page lists those records (each linked to its form) instead.
 */
import type { ConnectionView } from "../../connections/store.ts";
import type { Identity } from "../context.ts";
import { Csrf, Notice } from "./components.tsx";
import { CONNECTION_CRUMBS } from "./connection_list.tsx";
import { Layout } from "./layout.tsx";

/** A record that uses a connection. */
export interface ConnectionUser {
  id: number;
  name: string;
  schoolId: number;
}

/** Options of {@linkcode ConnectionDelete}. */
export interface ConnectionDeleteProps {
  timeZone: string;
  identity: Identity;
  connection: ConnectionView;
  /** Records that use the connection; any means it cannot be deleted. */
  users: ConnectionUser[];
}

export function ConnectionDelete(props: ConnectionDeleteProps) {
  const { connection: c, users } = props;
  return (
    <Layout
      title={`Delete ${c.name}`}
      timeZone={props.timeZone}
      identity={props.identity}
      breadcrumbs={[...CONNECTION_CRUMBS, { label: `Delete ${c.name}` }]}
    >
      {users.length > 0
        ? (
          <>
            <h1>The connection “{c.name}” is in use</h1>
            <Notice kind="warn">
              {users.length === 1 ? "One record uses" : `${users.length} records use`}{" "}
              this connection, so it cannot be deleted. Change them to another source first.
            </Notice>
            <ul id="in-use">
              {users.map((r) => (
                <li>
                  <a href={`/records/${r.id}/edit`}>{r.name}</a>{" "}
                  <span class="muted">
                    ({r.schoolId === 0 ? "District Office" : `school ${r.schoolId}`})
                  </span>
                </li>
              ))}
            </ul>
            <p>
              <a href="/connections">Back to Managed Connections</a>
            </p>
          </>
        )
        : (
          <>
            <h1>Delete the managed connection “{c.name}”?</h1>
            <p>
              <code>sftp://{c.username}@{c.host}:{String(c.port)}</code>. No record uses it. Its
              stored password or key is deleted with it.
            </p>
            <form method="post" action={`/connections/${c.id}/delete`} class="buttons">
              <Csrf token={props.identity.csrfToken} />
              <button type="submit" class="button danger">Delete</button>
              <a class="button secondary" href="/connections">Cancel</a>
            </form>
          </>
        )}
    </Layout>
  );
}
