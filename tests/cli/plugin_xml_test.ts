/** `autocomm plugin xml`: the plugin.xml for PowerSchool, read back with fast-xml-parser. */
import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import {
  buildPluginXml,
  PLUGIN_NAMESPACE,
  PluginXmlError,
  uiContextsOf,
} from "../../src/cli/plugin_command.ts";
import { type PluginManifest, servedManifest } from "../../src/web/plugin.ts";
import { VERSION } from "../../src/version.ts";
import { describe, runCli, tempEnv } from "../support/cli.ts";

interface Link {
  "@_display-text": string;
  "@_title": string;
  "@_path": string;
  ui_contexts: { ui_context: { "@_id": string }[] };
}

interface PluginXml {
  plugin: {
    "@_xmlns": string;
    "@_name": string;
    "@_version": string;
    "@_description": string;
    openid: { "@_host": string; "@_port": string; links: { link: Link[] } };
    publisher: { "@_name": string; contact: { "@_email": string } };
  };
}

/** Parses plugin.xml after checking it is well-formed XML. */
function parsePluginXml(xml: string): PluginXml {
  assert.equal(XMLValidator.validate(xml), true, xml);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    parseAttributeValue: false,
    isArray: (name) => name === "link" || name === "ui_context",
  });
  return parser.parse(xml) as PluginXml;
}

/** Checks a parsed plugin.xml against the manifest served on `publicUrl`. */
function assertMatchesManifest(xml: PluginXml, manifest: PluginManifest, publicUrl: string) {
  const url = new URL(publicUrl);
  const { plugin } = xml;
  assert.equal(plugin["@_xmlns"], PLUGIN_NAMESPACE);
  assert.equal(plugin["@_name"], manifest.name);
  assert.equal(plugin["@_version"], manifest.version);
  assert.equal(plugin["@_description"], manifest.description);
  assert.equal(plugin.openid["@_host"], url.hostname);
  assert.equal(plugin.publisher["@_name"], manifest.publisher.name);
  assert.equal(plugin.publisher.contact["@_email"], manifest.contact.email);
  const links = plugin.openid.links.link;
  assert.equal(links.length, manifest.pages.length);
  manifest.pages.forEach((page, i) => {
    const link = links[i]!;
    assert.equal(link["@_display-text"], page.title);
    assert.equal(link["@_title"], page.navigation.join(" → "));
    assert.equal(`${url.origin}${link["@_path"]}`, page.path, page.id);
    assert.deepEqual(
      link.ui_contexts.ui_context.map((c) => c["@_id"]),
      uiContextsOf(page.navigation),
    );
  });
}

Deno.test("plugin xml prints PowerSchool's plugin.xml for the served manifest", async () => {
  const publicUrl = "https://autocomm.example.org/district";
  await using data = await tempEnv({ AUTOCOMM_PUBLIC_URL: publicUrl });
  const result = await runCli(["plugin", "xml"], data.env);
  assert.equal(result.code, 0, describe(["plugin", "xml"], result));
  assert.equal(result.stderr, "");
  assert.match(result.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<plugin /);
  const xml = parsePluginXml(result.stdout);
  const manifest = servedManifest({ publicUrl });
  assertMatchesManifest(xml, manifest, publicUrl);
  assert.equal(xml.plugin["@_version"], VERSION);
  assert.equal(xml.plugin.openid["@_port"], "443");
  const [setup, connections] = xml.plugin.openid.links.link;
  assert.equal(setup!["@_path"], "/district/");
  assert.deepEqual(setup!.ui_contexts.ui_context.map((c) => c["@_id"]), [
    "admin.left_nav",
    "admin.header",
  ]);
  assert.equal(connections!["@_path"], "/district/connections");
  assert.deepEqual(connections!.ui_contexts.ui_context.map((c) => c["@_id"]), ["admin.header"]);
});

Deno.test("plugin xml --out writes the file, and says PowerSchool needs https", async () => {
  const publicUrl = "http://127.0.0.1:8000";
  await using data = await tempEnv({ AUTOCOMM_PUBLIC_URL: publicUrl });
  const out = `${data.dir}/plugin.xml`;
  const result = await runCli(["plugin", "xml", "--out", out], data.env);
  assert.equal(result.code, 0, describe(["plugin", "xml", "--out", out], result));
  assert.match(result.stdout, /Wrote .*plugin\.xml.*Plugin Management Configuration > Install/);
  assert.match(result.stderr, /over https only.*http:\/\/127\.0\.0\.1:8000/);
  const xml = parsePluginXml(await Deno.readTextFile(out));
  assertMatchesManifest(xml, servedManifest({ publicUrl }), publicUrl);
  assert.equal(xml.plugin.openid["@_host"], "127.0.0.1");
  assert.equal(xml.plugin.openid["@_port"], "8000");

  const usage = await runCli(["plugin", "json"], data.env);
  assert.equal(usage.code, 64);
  assert.match(usage.stderr, /Use: plugin xml \[--out FILE\]/);
});

Deno.test("plugin.xml stays well-formed with & < > and quotes in names and titles", () => {
  const publicUrl = "https://autocomm.example.org";
  const manifest = servedManifest({ publicUrl });
  manifest.name = `A&B <"Comm">`;
  manifest.description = `Imports & exports <files> "quoted" 'too'`;
  manifest.publisher.name = `Smith & "Sons" <Ltd>`;
  manifest.pages[0]!.title = `Setup & <Runs> "now"`;
  manifest.pages[0]!.navigation = ["System", `Data & "Management"`, `Setup & <Runs> "now"`];
  const xml = buildPluginXml(manifest, publicUrl);
  assert.doesNotMatch(xml, /A&B|<"Comm">|<Runs>|<files>/);
  assertMatchesManifest(parsePluginXml(xml), manifest, publicUrl);
});

Deno.test("plugin.xml refuses a value over PowerSchool's limit, naming it", () => {
  const publicUrl = "https://autocomm.example.org";
  const long = servedManifest({ publicUrl });
  long.name = "AutoComm with a name far too long for PowerSchool";
  assert.throws(() => buildPluginXml(long, publicUrl), (error: unknown) => {
    assert.ok(error instanceof PluginXmlError);
    assert.match(error.message, /The name .* is 49 characters; PowerSchool allows at most 40/);
    return true;
  });
  const email = servedManifest({ publicUrl });
  email.contact.email = `${"x".repeat(40)}@example.org`;
  assert.throws(() => buildPluginXml(email, publicUrl), /contact email/);
});
