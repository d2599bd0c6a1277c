/**
 * `deno task autocomm plugin xml [--out FILE]`: the `plugin.xml` to install AutoComm in
 * PowerSchool (System → System Settings → Plugin Management Configuration → Install),
 * generated from the served manifest, so its links are absolute on
 * `AUTOCOMM_PUBLIC_URL`. Written to standard output, or to FILE with `--out`.
 *
 * The structure is PowerSchool's plugin XML: the root `<plugin>` in the namespace
 * `http://plugin.powerschool.pearson.com` with `name`, `version` and `description`;
 * `<openid host port>` with `<links>`, one `<link display-text title path>` per page,
 * each with its `<ui_contexts>`; `<publisher name>` with `<contact email>` (mandatory).
 * PowerSchool's limits are checked, not cut: a value too long stops the command with a
 * message naming it.
 */
import { XMLBuilder } from "fast-xml-parser";
import type { Config } from "../config.ts";
import { type ManifestPage, type PluginManifest, servedManifest } from "../web/plugin.ts";
import { parse, UsageError } from "./args.ts";
import type { Command } from "./commands.ts";
import { printError } from "./output.ts";

/** The namespace of PowerSchool's plugin XML. */
export const PLUGIN_NAMESPACE = "http://plugin.powerschool.pearson.com";

/** A manifest that cannot become a plugin.xml PowerSchool accepts. */
export class PluginXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PluginXmlError";
  }
}

/**
 * Where a page's link goes in PowerSchool, from the page's navigation slot. PowerSchool
 * places a plugin's single sign-on links of the admin portal in two places only:
 * `admin.left_nav` (the main menu, under Applications) and `admin.header` (the
 * Applications dialog of the header bar). So:
 * - a page among the plugin's settings (its slot runs through System Settings → Plugin
 *   Management), for which PowerSchool has no link slot, goes to `admin.header` only;
 * - every other page (e.g. System → Data Management → AutoComm Setup) goes to the main
 *   menu and the header: `admin.left_nav` and `admin.header`.
 * AutoComm is for district staff: no teacher, guardian or student contexts.
 */
export function uiContextsOf(navigation: readonly string[]): string[] {
  if (navigation.includes("Plugin Management")) return ["admin.header"];
  return ["admin.left_nav", "admin.header"];
}

/** PowerSchool's limits (characters) on the values of plugin.xml. */
const LIMITS = {
  name: 40,
  version: 20,
  description: 256,
  host: 256,
  "display-text": 100,
  title: 256,
  path: 1000,
  "publisher name": 100,
  "contact email": 40,
} as const;

/** A value for an attribute, checked against PowerSchool's limit and for control characters. */
function checked(what: keyof typeof LIMITS, value: string): string {
  if (value.length > LIMITS[what]) {
    throw new PluginXmlError(
      `The ${what} "${
        value.slice(0, 60)
      }…" is ${value.length} characters; PowerSchool allows at most ${LIMITS[what]}.`,
    );
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) {
    throw new PluginXmlError(`The ${what} holds a control character, which XML cannot carry.`);
  }
  return value;
}

/** One `<link>` of `<openid>`: the page's title, its navigation slot as the tooltip, its path. */
function link(page: ManifestPage) {
  const url = new URL(page.path);
  return {
    "@_display-text": checked("display-text", page.title),
    "@_title": checked("title", page.navigation.join(" → ")),
    "@_path": checked("path", `${url.pathname}${url.search}`),
    ui_contexts: { ui_context: uiContextsOf(page.navigation).map((id) => ({ "@_id": id })) },
  };
}

/**
 * The plugin.xml of a served manifest (see {@linkcode servedManifest}): host and port
 * from `publicUrl` (443 or 80 when it names none), each page's path under the public
 * URL's own path (the served paths hold it). Attribute values are escaped by fast-xml-parser's builder.
 */
export function buildPluginXml(manifest: PluginManifest, publicUrl: string): string {
  if (!/^[0-9.]+$/.test(manifest.version)) {
    throw new PluginXmlError(`The version "${manifest.version}" is not digits and dots.`);
  }
  const url = new URL(publicUrl);
  const port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    format: true,
    indentBy: "  ",
    suppressEmptyNode: true,
  });
  return builder.build({
    "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
    plugin: {
      "@_xmlns": PLUGIN_NAMESPACE,
      "@_xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
      "@_xsi:schemaLocation": `${PLUGIN_NAMESPACE} plugin.xsd`,
      "@_name": checked("name", manifest.name),
      "@_version": checked("version", manifest.version),
      "@_description": checked("description", manifest.description),
      openid: {
        "@_host": checked("host", url.hostname),
        "@_port": port,
        links: { link: manifest.pages.map(link) },
      },
      publisher: {
        "@_name": checked("publisher name", manifest.publisher.name),
        contact: { "@_email": checked("contact email", manifest.contact.email) },
      },
    },
  });
}

/** The plugin.xml of this service: the served manifest of `config`. */
export function pluginXml(config: Pick<Config, "publicUrl">): string {
  return buildPluginXml(servedManifest(config), config.publicUrl);
}

/** `plugin xml [--out FILE]`. */
export const pluginCommand: Command = async (args, { config, out, data }) => {
  const [sub, ...rest] = args;
  if (sub !== "xml") throw new UsageError("Use: plugin xml [--out FILE]");
  const { values, positionals } = parse(rest, { out: { type: "string" } });
  if (positionals.length > 0) throw new UsageError("Use: plugin xml [--out FILE]");
  let xml: string;
  try {
    xml = pluginXml(config);
  } catch (error) {
    if (!(error instanceof PluginXmlError)) throw error;
    printError(`Cannot make plugin.xml: ${error.message}`);
    return 1;
  }
  if (!config.publicUrl.startsWith("https:")) {
    printError(
      `Note: PowerSchool opens single sign-on links over https only, and AUTOCOMM_PUBLIC_URL is ${config.publicUrl}.`,
    );
  }
  if (values.out === undefined) {
    data(xml);
    return 0;
  }
  try {
    await Deno.writeTextFile(values.out, xml);
  } catch (error) {
    printError(
      `Cannot write ${values.out}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  out(
    `Wrote ${values.out} for ${config.publicUrl}. Install it in PowerSchool under System > System Settings > Plugin Management Configuration > Install.`,
  );
  return 0;
};
