/**
 * The New / Edit form of a managed connection. Secrets are write-only: the password,
 * private key and passphrase fields are always empty, and left empty they keep what
 * is stored. Problems from the connection rules show in a summary at the top (linking
 * to each field) and beside each field, with what was typed kept (except secrets).
 */
import { formFields } from "./form_fields.tsx";
import type { ConnectionProblem } from "../../connections/store.ts";
import type { Identity } from "../context.ts";
import { Csrf } from "./components.tsx";
import { CONNECTION_CRUMBS } from "./connection_list.tsx";
import { Layout } from "./layout.tsx";

/** What people call each field of the form (also used in the error summary). */
export const CONNECTION_FIELD_LABELS: Record<string, string> = {
  name: "Name",
  description: "Description",
  protocol: "Protocol",
  host: "Host",
  port: "Port",
  authType: "Authentication",
  username: "Username",
  password: "Password",
  privateKey: "Private key",
  passphrase: "Passphrase",
  allowDownload: "Allow download",
  allowUpload: "Allow upload",
  allowLegacyCiphers: "Allow legacy ciphers",
  hostKeyFingerprint: "Host-key fingerprint",
};

/** The form's values as typed (secrets are never among them). */
export interface ConnectionFormValues {
  name: string;
  description: string;
  host: string;
  port: string;
  authType: "password" | "key";
  username: string;
  allowDownload: boolean;
  allowUpload: boolean;
  allowLegacyCiphers: boolean;
  hostKeyFingerprint: string;
}

/** The values of a new connection: port 22, password, download allowed. */
export function emptyConnectionValues(): ConnectionFormValues {
  return {
    name: "",
    description: "",
    host: "",
    port: "22",
    authType: "password",
    username: "",
    allowDownload: true,
    allowUpload: false,
    allowLegacyCiphers: false,
    hostKeyFingerprint: "",
  };
}

/** Options of {@linkcode ConnectionForm}. */
export interface ConnectionFormProps {
  mode: "new" | "edit";
  connectionId?: number;
  timeZone: string;
  identity: Identity;
  values: ConnectionFormValues;
  problems: ConnectionProblem[];
  /** What is stored (edit): which secret, if any, an empty field keeps. */
  stored?: { authType: "password" | "key"; hasSecret: boolean; name: string } | undefined;
}

/** The helpers of {@linkcode formFields} for the connection form. */
type FormKit = ReturnType<typeof formFields>;

/**
 * The connection form. Its field groups: the server (name, description, protocol,
 * host, port), the login (username, kind, secrets), and permissions and security.
 */
export function ConnectionForm(props: ConnectionFormProps) {
  const { values, stored } = props;
  const kit = formFields({
    errorsOf: (field) => props.problems.filter((p) => p.field === field).map((p) => p.message),
    checked: (field) =>
      values[field as "allowDownload" | "allowUpload" | "allowLegacyCiphers"] === true,
  });
  const title = props.mode === "new"
    ? "New Managed Connection"
    : `Edit Managed Connection: ${stored?.name ?? values.name}`;
  const action = props.mode === "new" ? "/connections" : `/connections/${props.connectionId}`;

  return (
    <Layout
      title={props.problems.length > 0 ? `Error: ${title}` : title}
      timeZone={props.timeZone}
      identity={props.identity}
      breadcrumbs={[
        ...CONNECTION_CRUMBS,
        { label: props.mode === "new" ? "New" : stored?.name ?? "Edit" },
      ]}
    >
      <h1>{title}</h1>
      <ConnectionErrorSummary problems={props.problems} />

      <form method="post" action={action} class="record-form" novalidate>
        <Csrf token={props.identity.csrfToken} />
        <input type="hidden" name="protocol" value="sftp" />

        <fieldset>
          <legend>Connection</legend>
          <ServerFields kit={kit} values={values} />
        </fieldset>

        <fieldset>
          <legend>Login</legend>
          <LoginFields kit={kit} values={values} stored={stored} />
        </fieldset>

        <fieldset>
          <legend>Permissions and security</legend>
          <SecurityFields kit={kit} values={values} />
        </fieldset>

        <div class="buttons">
          <button type="submit" class="button">Save</button>
          <a href="/connections" class="button secondary">Cancel</a>
        </div>
      </form>
    </Layout>
  );
}

/** The problems at the top of the form; those of a shown field link to it. */
function ConnectionErrorSummary(props: { problems: ConnectionProblem[] }) {
  if (props.problems.length === 0) return null;
  const shown = new Set(Object.keys(CONNECTION_FIELD_LABELS));
  return (
    <div
      class="error-summary"
      role="alert"
      aria-labelledby="error-summary-title"
      tabindex={-1}
      id="error-summary"
    >
      <h2 id="error-summary-title">There is a problem with this connection</h2>
      <ul>
        {props.problems.map((p) => (
          <li>
            {shown.has(p.field)
              ? (
                <a href={`#f-${p.field}`}>
                  {CONNECTION_FIELD_LABELS[p.field]}: {p.message}
                </a>
              )
              : <span>{p.message}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Name, description, protocol (SFTP), host and port. */
function ServerFields(props: { kit: FormKit; values: ConnectionFormValues }) {
  const { kit: { aria, Row }, values } = props;
  return (
    <>
      <Row field="name" label="Name">
        <input
          type="text"
          value={values.name}
          maxlength={100}
          autocomplete="off"
          {...aria("name")}
        />
      </Row>
      <Row field="description" label="Description">
        <input
          type="text"
          value={values.description}
          maxlength={500}
          class="wide"
          autocomplete="off"
          {...aria("description")}
        />
      </Row>
      <Row field="protocol" label="Protocol">
        <span id="f-protocol">SFTP</span>
      </Row>
      <Row field="host" label="Host" hint="Host name or IP address of the SFTP server.">
        <input
          type="text"
          value={values.host}
          maxlength={253}
          autocomplete="off"
          spellcheck={false}
          {...aria("host", true)}
        />
      </Row>
      <Row field="port" label="Port">
        <input
          type="text"
          inputmode="numeric"
          value={values.port}
          class="short"
          {...aria("port")}
        />
      </Row>
    </>
  );
}

/**
 * Username, password or private key, and the secrets. The secret fields are always
 * empty; a stored secret of the chosen kind is kept when its field is left empty.
 */
function LoginFields(
  props: { kit: FormKit; values: ConnectionFormValues; stored: ConnectionFormProps["stored"] },
) {
  const { kit: { aria, Row }, values, stored } = props;
  const keeps = (kind: "password" | "key") =>
    stored !== undefined && stored.hasSecret && stored.authType === kind;
  return (
    <>
      <Row field="username" label="Username">
        <input
          type="text"
          value={values.username}
          maxlength={100}
          autocomplete="off"
          spellcheck={false}
          {...aria("username")}
        />
      </Row>
      <AuthTypeField kit={props.kit} values={values} />
      <Row
        field="password"
        label="Password"
        hint={keeps("password")
          ? "A password is stored: leave empty to keep the stored password."
          : "Never shown again once saved; type it again after a problem."}
      >
        <input
          type="password"
          value=""
          autocomplete="new-password"
          {...aria("password", true)}
        />
      </Row>
      <Row
        field="privateKey"
        label="Private key"
        hint={keeps("key")
          ? "A private key is stored: leave empty to keep the stored key (and its passphrase)."
          : "OpenSSH (BEGIN OPENSSH PRIVATE KEY) or PEM format. Never shown again once saved."}
      >
        <textarea
          rows={6}
          spellcheck={false}
          autocomplete="off"
          {...aria("privateKey", true)}
        >
        </textarea>
      </Row>
      <Row
        field="passphrase"
        label="Passphrase"
        hint="Only for an encrypted private key; it goes with a newly pasted key."
      >
        <input
          type="password"
          value=""
          autocomplete="new-password"
          {...aria("passphrase", true)}
        />
      </Row>
    </>
  );
}

/** The kind of login, password or private key, as two radio buttons. */
function AuthTypeField(props: { kit: FormKit; values: ConnectionFormValues }) {
  const { kit: { errorsOf, FieldErrors }, values } = props;
  return (
    <div
      class={`row${errorsOf("authType").length > 0 ? " has-error" : ""}`}
      id="row-authType"
    >
      <span class="label" id="auth-label">Authentication</span>
      <div class="control" role="radiogroup" aria-labelledby="auth-label">
        <FieldErrors field="authType" />
        <input
          type="radio"
          name="authType"
          id="f-authType"
          value="password"
          checked={values.authType === "password"}
        />{" "}
        <label for="f-authType">Password</label>{" "}
        <input
          type="radio"
          name="authType"
          id="f-authType-key"
          value="key"
          checked={values.authType === "key"}
        />{" "}
        <label for="f-authType-key">Private key</label>
        <p class="hint">Only the fields of the chosen kind are used.</p>
      </div>
    </div>
  );
}

/** Download, upload, legacy ciphers and the accepted host-key fingerprint. */
function SecurityFields(props: { kit: FormKit; values: ConnectionFormValues }) {
  const { kit: { aria, Row, Check }, values } = props;
  return (
    <>
      <Check
        field="allowDownload"
        label="Allow download"
        hint="Records can fetch their file through this connection."
      />
      <Check field="allowUpload" label="Allow upload" />
      <Check
        field="allowLegacyCiphers"
        label="Allow legacy ciphers"
        hint="Also offer older algorithms (CBC ciphers, SHA-1 key exchange) for old servers."
      />
      <Row
        field="hostKeyFingerprint"
        label="Host-key fingerprint"
        hint={
          <>
            The server's accepted key, <code>SHA256:</code>{" "}
            and 43 characters. Test the connection to see the server's and accept it; empty: none
            accepted (runs are refused until one is).
          </>
        }
      >
        <input
          type="text"
          value={values.hostKeyFingerprint}
          class="wide"
          autocomplete="off"
          spellcheck={false}
          {...aria("hostKeyFingerprint", true)}
        />
      </Row>
    </>
  );
}
