/**
 * Managed Connections: every connection by name, with where it points, how it logs
 * in (never the secret itself), what it allows and whether a host key is accepted;
 * Edit, Test connection and Delete for each. Admins only.
 */
import type { ConnectionView } from "../../connections/store.ts";
import type { Identity } from "../context.ts";
import { Csrf, Notice, TableScroll, VisuallyHidden } from "./components.tsx";
import { type Crumb, Layout } from "./layout.tsx";

/** Where the connections pages sit in the host's menus. */
export const CONNECTION_CRUMBS: Crumb[] = [
  { label: "System" },
  { label: "System Settings" },
  { label: "Plugin Management" },
  { label: "AutoComm", href: "/" },
  { label: "Managed Connections", href: "/connections" },
];

/** How a connection logs in, in words. */
export function authText(c: Pick<ConnectionView, "authType" | "hasSecret">): string {
  const kind = c.authType === "key" ? "Private key" : "Password";
  return c.hasSecret ? `${kind} (stored)` : `${kind} (none stored)`;
}

/** What a connection allows, in words. */
export function allowsText(c: Pick<ConnectionView, "allowDownload" | "allowUpload">): string {
  const parts = [c.allowDownload ? "download" : "", c.allowUpload ? "upload" : ""].filter((p) =>
    p !== ""
  );
  return parts.length === 0 ? "Nothing" : parts.join(", ").replace(/^./, (m) => m.toUpperCase());
}

/** What the list page shows. */
export interface ConnectionListProps {
  timeZone: string;
  identity: Identity;
  connections: ConnectionView[];
  /** How many records use each connection, by id. */
  usage: Map<number, number>;
  notice?: string | undefined;
  /** The service cannot store secrets (no `AUTOCOMM_SECRET_KEY`). */
  noSecretKey: boolean;
}

/** The list page: what connections are for, New, and the table of connections. */
export function ConnectionList(props: ConnectionListProps) {
  const { identity } = props;
  return (
    <Layout
      title="Managed Connections"
      timeZone={props.timeZone}
      identity={identity}
      breadcrumbs={[...CONNECTION_CRUMBS.slice(0, -1), { label: "Managed Connections" }]}
    >
      <h1>Managed Connections</h1>
      <p class="lead">
        Servers that records of type “Managed Connection” fetch their file from over SFTP. Passwords
        and keys are stored sealed and are never shown again.
      </p>
      {props.notice ? <Notice>{props.notice}</Notice> : ""}
      {props.noSecretKey
        ? (
          <Notice kind="warn">
            The service has no{" "}
            <code>AUTOCOMM_SECRET_KEY</code>, so it cannot store a password or key. Set it (32 bytes
            in base64) and restart the service.
          </Notice>
        )
        : ""}
      <p>
        <a class="button" href="/connections/new">New connection</a>
      </p>
      {props.connections.length === 0
        ? <p class="empty">No managed connections yet.</p>
        : (
          <TableScroll label="Managed connections">
            <ConnectionTable {...props} />
          </TableScroll>
        )}
      <p>
        <a href="/">Back to AutoComm Setup</a>
      </p>
    </Layout>
  );
}

/** The connections, one row each, with what each allows and how many records use it. */
function ConnectionTable(props: ConnectionListProps) {
  return (
    <table class="list cards">
      <caption class="visually-hidden">Managed connections</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Server</th>
          <th scope="col">Login</th>
          <th scope="col">Allows</th>
          <th scope="col">Host key</th>
          <th scope="col">Used by</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.connections.map((c) => (
          <ConnectionRow
            connection={c}
            used={props.usage.get(c.id) ?? 0}
            identity={props.identity}
          />
        ))}
      </tbody>
    </table>
  );
}

/** One connection: name, server, login, permissions, host key, use, and its actions. */
function ConnectionRow(props: { connection: ConnectionView; used: number; identity: Identity }) {
  const { connection: c, used } = props;
  return (
    <tr>
      <td class="card-title">
        <a href={`/connections/${c.id}/edit`}>{c.name}</a>
        {c.description ? <div class="small muted">{c.description}</div> : ""}
      </td>
      <td data-label="Server">
        <code>sftp://{c.host}:{String(c.port)}</code>
        {c.allowLegacyCiphers ? <div class="small muted">Legacy ciphers allowed</div> : ""}
      </td>
      <td data-label="Login">
        {c.username}
        <div class="small muted">{authText(c)}</div>
      </td>
      <td data-label="Allows">{allowsText(c)}</td>
      <td data-label="Host key">
        {c.hostKeyFingerprint ? <code class="small">{c.hostKeyFingerprint}</code> : (
          <>
            <span class="off">Not accepted yet</span>
            <div class="small muted">Test the connection to accept one</div>
          </>
        )}
      </td>
      <td data-label="Used by">
        {used === 0 ? "No records" : `${used} record${used === 1 ? "" : "s"}`}
      </td>
      <td class="actions">
        <a href={`/connections/${c.id}/edit`}>
          Edit<VisuallyHidden>{` ${c.name}`}</VisuallyHidden>
        </a>
        <a href={`/connections/${c.id}/delete`}>
          Delete<VisuallyHidden>{` ${c.name}`}</VisuallyHidden>
        </a>
        <form method="post" action={`/connections/${c.id}/test`} class="inline">
          <Csrf token={props.identity.csrfToken} />
          <button type="submit" class="button small" aria-label={`Test connection: ${c.name}`}>
            Test connection
          </button>
        </form>
      </td>
    </tr>
  );
}
