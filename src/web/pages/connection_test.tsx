/**
 * What "Test connection" found: the server's SHA-256 host-key fingerprint beside the
 * accepted one (both shown, clearly, when they differ), a button that accepts the
 * server's fingerprint when it is not the accepted one, and the login folder's
 * listing (names, sizes, times) when the login worked.
 */
import type { ConnectionTest, ConnectionView } from "../../connections/store.ts";
import type { Identity } from "../context.ts";
import { bytes } from "../format.ts";
import { Csrf, Notice, Time } from "./components.tsx";
import { CONNECTION_CRUMBS } from "./connection_list.tsx";
import { Layout } from "./layout.tsx";

/** Options of {@linkcode ConnectionTestPage}. */
export interface ConnectionTestProps {
  timeZone: string;
  identity: Identity;
  connection: ConnectionView;
  result: ConnectionTest;
}

/** How the server's key compares with the accepted one. */
export type KeyState = "unreachable" | "accepted" | "none_accepted" | "differs";

/** How `result`'s fingerprint compares with the connection's accepted one. */
export function keyState(connection: ConnectionView, result: ConnectionTest): KeyState {
  if (result.fingerprint === "") return "unreachable";
  if (connection.hostKeyFingerprint === null) return "none_accepted";
  return connection.hostKeyFingerprint === result.fingerprint ? "accepted" : "differs";
}

/** The test page: the outcome, the host key (with Accept), and the login folder. */
export function ConnectionTestPage(props: ConnectionTestProps) {
  const { connection: c, result } = props;
  const title = `Test connection: ${c.name}`;
  return (
    <Layout
      title={title}
      timeZone={props.timeZone}
      identity={props.identity}
      breadcrumbs={[...CONNECTION_CRUMBS, { label: `Test ${c.name}` }]}
    >
      <h1>{title}</h1>
      <p>
        <code>sftp://{c.username}@{c.host}:{String(c.port)}</code>
      </p>
      {result.ok
        ? <Notice>Connected and logged in; the login folder is listed below.</Notice>
        : (
          <Notice kind="bad">
            <strong>The test failed.</strong> {result.error ?? "The server could not be reached."}
          </Notice>
        )}

      <h2>Host key</h2>
      <HostKey {...props} />

      {result.ok ? <LoginFolder entries={result.entries} timeZone={props.timeZone} /> : ""}

      <p>
        <a href={`/connections/${c.id}/edit`}>Edit this connection</a>
        {" · "}
        <a href="/connections">Back to Managed Connections</a>
      </p>
    </Layout>
  );
}

/**
 * The server's fingerprint beside the accepted one, what their comparison means, and
 * the button that accepts the server's when it is not the accepted one.
 */
function HostKey(props: ConnectionTestProps) {
  const { connection: c, result } = props;
  const state = keyState(c, result);
  return (
    <>
      {state === "unreachable"
        ? <p class="muted">No host key to show: the test stopped before it could report one.</p>
        : (
          <table class="facts" id="host-key">
            <tbody>
              <tr>
                <th scope="row">Server's fingerprint</th>
                <td>
                  <code id="server-fingerprint">{result.fingerprint}</code>
                </td>
              </tr>
              <tr>
                <th scope="row">Accepted fingerprint</th>
                <td>
                  {c.hostKeyFingerprint
                    ? <code id="accepted-fingerprint">{c.hostKeyFingerprint}</code>
                    : <span class="muted">None accepted yet</span>}
                </td>
              </tr>
            </tbody>
          </table>
        )}
      {state === "accepted"
        ? <p class="on">The server's key is the accepted one.</p>
        : state === "none_accepted"
        ? (
          <p class="warning">
            No key is accepted yet, so runs of this connection are refused. Compare the server's
            fingerprint with the one its administrator gives you before accepting it.
          </p>
        )
        : state === "differs"
        ? (
          <Notice kind="bad">
            <strong>The server's key differs from the accepted one.</strong>{" "}
            Someone may be pretending to be the server, or its key was replaced. Nothing was sent to
            log in. Accept the new fingerprint only when the server's administrator confirms it.
          </Notice>
        )
        : ""}
      {state === "none_accepted" || state === "differs"
        ? (
          <form method="post" action={`/connections/${c.id}/fingerprint`} class="buttons">
            <Csrf token={props.identity.csrfToken} />
            <input type="hidden" name="fingerprint" value={result.fingerprint} />
            <button type="submit" class={state === "differs" ? "button danger" : "button"}>
              Accept this fingerprint
            </button>
          </form>
        )
        : ""}
    </>
  );
}

/** The login folder's files: name, size and when each was modified. */
function LoginFolder(props: { entries: ConnectionTest["entries"]; timeZone: string }) {
  return (
    <>
      <h2>Login folder</h2>
      {props.entries.length === 0
        ? <p class="empty">The login folder is empty.</p>
        : (
          <table class="list" id="listing">
            <caption class="visually-hidden">Files in the login folder</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">Size</th>
                <th scope="col">Modified</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map((e) => (
                <tr>
                  <td>
                    <code>{e.name}</code>
                  </td>
                  <td class="num">{bytes(e.size)}</td>
                  <td>
                    <Time iso={e.modified} zone={props.timeZone} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </>
  );
}
