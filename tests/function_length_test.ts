/**
 * No function under src/ is longer than {@linkcode MAX_LINES} lines, from the line it
 * starts on (`function`, a method's name, an arrow's parameters) to the line its body
 * ends on. Functions are function declarations and expressions, methods (classes and
 * object literals) and arrow functions (assigned, passed as arguments, in JSX), found
 * by a token scan that skips strings, template literals, comments, regular expression
 * literals and JSX text and matches brackets: no parser, but enough for this code base.
 * A nested function counts in its own length and in the length of every function
 * around it.
 */
import assert from "node:assert/strict";
import { fromFileUrl } from "../src/util/paths.ts";

const SRC = fromFileUrl(new URL("../src/", import.meta.url));

/** The longest a function may be, in lines. */
const MAX_LINES = 120;

/**
 * Functions that may be longer for now (path under src/ and name as reported), and the
 * functions inside them, each with the reason. An entry that is no longer too long
 * fails the test, so the list cannot outlive its reason.
 */
const ALLOWED: readonly { path: string; name: string }[] = [];

/** One token of code: a name or number, a punctuator, a string, or a JSX element's ends. */
interface Token {
  readonly kind: "name" | "punct" | "string" | "jsx";
  readonly text: string;
  readonly line: number;
}

/** Names after which a `/` starts a regular expression rather than dividing. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
]);

/** Punctuators after which a `/` divides (what precedes it is a value). */
const VALUE_ENDS = new Set([")", "]", "}"]);

/** Punctuators after which a `<` in a .tsx module starts a JSX element. */
const BEFORE_JSX = new Set(["(", ",", "=", "?", ":", "[", "{", "=>", "&", "|", "!", ";"]);

/** Splits a module's source into tokens; `jsx` reads JSX elements (.tsx). */
class Scanner {
  readonly tokens: Token[] = [];
  private pos = 0;
  private line = 1;

  constructor(private readonly src: string, private readonly jsx: boolean) {}

  /** Scans code up to the end, or up to and past the `}` that closes an open `{`. */
  code(closing: boolean): void {
    let depth = 0;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      const next = this.src[this.pos + 1];
      if (c === "\n") this.newline();
      else if (/\s/.test(c)) this.pos++;
      else if (c === "/" && next === "/") this.skipTo("\n", 0);
      else if (c === "/" && next === "*") this.skipTo("*/", 2);
      else if (c === '"' || c === "'") this.string(c);
      else if (c === "`") this.template();
      else if (c === "/" && this.regexAllowed()) this.regex();
      else if (c === "<" && this.jsx && this.jsxAllowed(next)) this.jsxElement(true);
      else if (/[\p{L}\p{Nl}$_#\d]/u.test(c)) this.word();
      else if (c === "=" && next === ">") this.punct("=>", 2);
      else if (this.operator()) continue;
      else {
        if (c === "{") depth++;
        if (c === "}" && depth-- === 0 && closing) {
          this.punct("}", 1);
          return;
        }
        this.punct(c, 1);
      }
    }
  }

  /** An operator ending in `=` other than `=` itself (`==`, `<=`, `+=`…), as one token. */
  private operator(): boolean {
    const m = /^(?:[=!]==?|[<>+\-*%]=|\*\*=|&&=|\|\|=|\?\?=)/.exec(
      this.src.slice(this.pos, this.pos + 3),
    );
    if (m) this.punct(m[0], m[0].length);
    return m !== null;
  }

  private newline(): void {
    this.line++;
    this.pos++;
  }

  private push(kind: Token["kind"], text: string, line = this.line): void {
    this.tokens.push({ kind, text, line });
  }

  private punct(text: string, length: number): void {
    this.push("punct", text);
    this.pos += length;
  }

  /** Moves past the next `end` (or to the end of the source), counting lines. */
  private skipTo(end: string, from: number): void {
    const at = this.src.indexOf(end, this.pos + from);
    const stop = at < 0 ? this.src.length : at + end.length;
    this.countLines(this.pos, stop);
    this.pos = stop;
  }

  private countLines(from: number, to: number): void {
    for (let i = from; i < to; i++) if (this.src[i] === "\n") this.line++;
  }

  private word(): void {
    const m = /^[\p{L}\p{Nl}\p{Mn}\p{Nd}$_#.]+/u.exec(this.src.slice(this.pos, this.pos + 200))!;
    // A number keeps its dot; a name stops before one (`a.b` is three tokens).
    const text = /^\d/.test(m[0]) ? m[0] : m[0].split(".")[0]!;
    this.push("name", text);
    this.pos += text.length;
  }

  private string(quote: string): void {
    const start = this.pos++;
    const line = this.line;
    while (this.pos < this.src.length && this.src[this.pos] !== quote) {
      if (this.src[this.pos] === "\\") this.pos++;
      if (this.src[this.pos] === "\n") this.line++;
      this.pos++;
    }
    this.pos++;
    this.push("string", this.src.slice(start, this.pos), line);
  }

  /**
   * A template literal: a string token where it starts and one where it ends, each
   * `${…}` in it code between `{` and `}` tokens.
   */
  private template(): void {
    this.push("string", "`");
    this.pos++;
    while (this.pos < this.src.length && this.src[this.pos] !== "`") {
      const c = this.src[this.pos];
      if (c === "\\") this.pos += 2;
      else if (c === "\n") this.newline();
      else if (c === "$" && this.src[this.pos + 1] === "{") {
        this.punct("{", 2);
        this.code(true);
      } else this.pos++;
    }
    this.push("string", "`");
    this.pos++;
  }

  private previous(): Token | undefined {
    return this.tokens[this.tokens.length - 1];
  }

  private regexAllowed(): boolean {
    const prev = this.previous();
    if (prev === undefined) return true;
    if (prev.kind === "name") return BEFORE_REGEX.has(prev.text);
    return prev.kind === "punct" && !VALUE_ENDS.has(prev.text);
  }

  private regex(): void {
    let inClass = false;
    this.pos++;
    while (this.pos < this.src.length && this.src[this.pos] !== "\n") {
      const c = this.src[this.pos];
      if (c === "\\") this.pos++;
      else if (c === "[") inClass = true;
      else if (c === "]") inClass = false;
      else if (c === "/" && !inClass) break;
      this.pos++;
    }
    this.pos++;
    while (/[a-z]/.test(this.src[this.pos] ?? "")) this.pos++;
    this.push("string", "/…/");
  }

  private jsxAllowed(next: string | undefined): boolean {
    if (next === undefined || !/[A-Za-z>]/.test(next)) return false;
    const prev = this.previous();
    if (prev === undefined) return true;
    if (prev.kind === "name") return prev.text === "return";
    return prev.kind === "punct" && BEFORE_JSX.has(prev.text);
  }

  /**
   * A JSX element from its `<` past its end: tag names, attributes and text are
   * skipped, each `{…}` in it is code between `{` and `}` tokens. An outermost element
   * is marked by a `<jsx` token where it starts and a `jsx>` token where it ends.
   */
  private jsxElement(outermost: boolean): void {
    if (outermost) this.push("jsx", "<jsx");
    this.pos++;
    const selfClosing = this.jsxTag();
    if (!selfClosing) this.jsxChildren();
    if (outermost) this.push("jsx", "jsx>");
  }

  /** The rest of an opening tag; true when it closes itself (`/>`). */
  private jsxTag(): boolean {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === "/" && this.src[this.pos + 1] === ">") {
        this.pos += 2;
        return true;
      }
      if (c === ">") {
        this.pos++;
        return false;
      }
      if (c === "{") this.jsxExpression();
      else if (c === '"' || c === "'") this.skipTo(c, 1);
      else if (c === "\n") this.newline();
      else this.pos++;
    }
    return true;
  }

  /** Children up to and past the closing tag. */
  private jsxChildren(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === "<" && this.src[this.pos + 1] === "/") {
        this.skipTo(">", 0);
        return;
      }
      if (c === "<") this.jsxElement(false);
      else if (c === "{") this.jsxExpression();
      else if (c === "\n") this.newline();
      else this.pos++;
    }
  }

  private jsxExpression(): void {
    this.punct("{", 1);
    this.code(true);
  }
}

/** The tokens of a module's source; `jsx` for a .tsx module. */
function tokensOf(source: string, jsx: boolean): Token[] {
  const scanner = new Scanner(source, jsx);
  scanner.code(false);
  return scanner.tokens;
}

/** One function: its name (or what it is an argument of), first line and length. */
interface FunctionSpan {
  readonly name: string;
  readonly line: number;
  readonly lines: number;
  /** The names of the functions it is in, outermost first. */
  readonly within: readonly string[];
}

/** A function found among the tokens: its name and its first and last token. */
interface Found {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

const OPENERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const CLOSERS = new Set([")", "]", "}"]);

/** For each bracket token, the index of its partner; for each token, its open bracket. */
function bracketsOf(tokens: readonly Token[]): { partner: number[]; parent: number[] } {
  const partner: number[] = new Array(tokens.length).fill(-1);
  const parent: number[] = new Array(tokens.length).fill(-1);
  const open: number[] = [];
  tokens.forEach((t, i) => {
    if (t.kind === "punct" && CLOSERS.has(t.text)) {
      const o = open.pop();
      if (o !== undefined) [partner[o], partner[i]] = [i, o];
    }
    parent[i] = open[open.length - 1] ?? -1;
    if (t.kind === "punct" && OPENERS[t.text] !== undefined) open.push(i);
  });
  return { partner, parent };
}

/** Names that start a statement or expression, never a method. */
const KEYWORDS = new Set([
  "if",
  "for",
  "while",
  "switch",
  "catch",
  "with",
  "function",
  "return",
  "typeof",
  "await",
  "new",
  "super",
]);

/** What may stand right before a method's name. */
const BEFORE_METHOD = new Set([
  "{",
  "}",
  ";",
  ",",
  "*",
  "async",
  "static",
  "get",
  "set",
  "public",
  "private",
  "protected",
  "override",
]);

/** The functions of a module's tokens. */
class FunctionFinder {
  private readonly found: Found[] = [];
  private readonly partner: number[];
  private readonly parent: number[];
  /** Tokens of return types and type declarations (a `=>` there is a type, not a function). */
  private readonly inType: boolean[] = [];

  constructor(private readonly t: readonly Token[]) {
    ({ partner: this.partner, parent: this.parent } = bracketsOf(t));
    this.markTypeDeclarations();
  }

  /** Marks type aliases (`type X = …;`) and interfaces (`interface X {…}`) as types. */
  private markTypeDeclarations(): void {
    for (let i = 0; i < this.t.length; i++) {
      let end = -1;
      if (this.is(i, "name", "type") && this.is(i + 1, "name") && !this.is(i - 1, "punct", ".")) {
        if (!this.is(i + 2, "punct", "=") && !this.is(i + 2, "punct", "<")) continue;
        end = i;
        while (end < this.t.length && !this.is(end, "punct", ";")) {
          end = OPENERS[this.t[end]!.text] ? this.partner[end]! + 1 : end + 1;
        }
      } else if (this.is(i, "name", "interface") && this.is(i + 1, "name")) {
        end = i;
        while (end < this.t.length && !this.is(end, "punct", "{")) end++;
        end = this.partner[end] ?? end;
      }
      for (let k = i; k <= end && k >= 0 && k < this.t.length; k++) this.inType[k] = true;
      if (end > i) i = end;
    }
  }

  find(): FunctionSpan[] {
    for (let i = 0; i < this.t.length; i++) {
      if (this.inType[i]) continue;
      if (this.is(i, "name", "function")) this.functionAt(i);
      else if (this.is(i, "punct", "=>")) this.arrowAt(i);
      else if (this.methodNameAt(i)) this.methodAt(i);
    }
    return this.found.map((f) => {
      const line = this.t[f.start]!.line;
      const around = this.found.filter((g) => g !== f && g.start <= f.start && g.end >= f.end);
      return {
        name: f.name,
        line,
        lines: this.t[f.end]!.line - line + 1,
        within: around.sort((a, b) => a.start - b.start).map((g) => g.name),
      };
    });
  }

  private is(i: number, kind: Token["kind"], text?: string): boolean {
    const tok = this.t[i];
    return tok !== undefined && tok.kind === kind && (text === undefined || tok.text === text);
  }

  private add(name: string, start: number, end: number): void {
    this.found.push({ name, start, end });
  }

  /** `function [*] [name] [<…>] (…) [: type] {…}` */
  private functionAt(i: number): void {
    let j = i + 1;
    if (this.is(j, "punct", "*")) j++;
    const name = this.is(j, "name") ? this.t[j++]!.text : undefined;
    if (this.is(j, "punct", "<")) j = this.pastAngles(j);
    if (!this.is(j, "punct", "(")) return;
    const body = this.bodyAfter(this.partner[j]! + 1);
    if (body < 0) return;
    const start = this.is(i - 1, "name", "async") ? i - 1 : i;
    this.add(name ?? this.nameBefore(start), i, this.partner[body]!);
  }

  /** `name[<…>](…) [: type] {…}` (or `[computed](…)…`) in a class or an object literal. */
  private methodNameAt(i: number): boolean {
    const tok = this.t[i]!;
    const computed = this.is(i, "punct", "]");
    if (tok.kind !== "name" && tok.kind !== "string" && !computed) return false;
    if (KEYWORDS.has(tok.text) || !this.is(this.paramsOfMethod(i), "punct", "(")) return false;
    const prev = this.t[(computed ? this.partner[i]! : i) - 1];
    return prev === undefined || (prev.kind !== "string" && BEFORE_METHOD.has(prev.text));
  }

  /** Where the parameters of a method named at `i` should start (past type parameters). */
  private paramsOfMethod(i: number): number {
    return this.is(i + 1, "punct", "<") ? this.pastAngles(i + 1) : i + 1;
  }

  private methodAt(i: number): void {
    const body = this.bodyAfter(this.partner[this.paramsOfMethod(i)]! + 1);
    if (body < 0) return;
    const computed = this.is(i, "punct", "]");
    const start = computed ? this.partner[i]! : i;
    const name = computed
      ? this.t.slice(start, i + 1).map((tok) => tok.text).join("")
      : this.t[i]!.text.replace(/^["']|["']$/g, "");
    this.add(name, start, this.partner[body]!);
  }

  /** `(…) [: type] => {…}`, `x => …` */
  private arrowAt(i: number): void {
    const start = this.arrowStart(i);
    const end = this.is(i + 1, "punct", "{") ? this.partner[i + 1]! : this.expressionEnd(i + 1);
    if (start < 0 || end < 0) return;
    this.add(this.nameBefore(start), start, end);
  }

  /** Past the `>` that closes the `<` at `j`. */
  private pastAngles(j: number): number {
    let depth = 0;
    for (; j < this.t.length; j++) {
      if (this.is(j, "punct", "<")) depth++;
      if (this.is(j, "punct", ">") && --depth === 0) return j + 1;
    }
    return j;
  }

  /**
   * The `{` of the body that starts at `j` after a parameter list, past a return type;
   * -1 when there is none (an overload, a call).
   */
  private bodyAfter(j: number): number {
    if (this.is(j, "punct", "{")) return j;
    if (!this.is(j, "punct", ":")) return -1;
    let angles = 0;
    for (let k = j + 1; k < this.t.length; k++) {
      const tok = this.t[k]!;
      if (tok.kind !== "punct") continue;
      if (tok.text === "<") angles++;
      else if (tok.text === ">") angles--;
      else if (tok.text === "(" || tok.text === "[") k = this.partner[k]!;
      else if (tok.text === "{") {
        // A `{` after a complete type is the body; one where a type begins is an object type.
        const prev = this.t[k - 1]!;
        const typeEnds = prev.kind !== "punct" || [">", "]", ")", "}"].includes(prev.text);
        if (angles === 0 && typeEnds) {
          for (let m = j; m < k; m++) this.inType[m] = true;
          return k;
        }
        k = this.partner[k]!;
      } else if (angles === 0 && [";", ",", ")", "]", "}", "="].includes(tok.text)) return -1;
      if (k < 0) return -1;
    }
    return -1;
  }

  /** The last token of an arrow's expression body that starts at `j`. */
  private expressionEnd(j: number): number {
    for (let k = j; k < this.t.length; k++) {
      const tok = this.t[k]!;
      if (tok.kind !== "punct") continue;
      if (OPENERS[tok.text] !== undefined) k = this.partner[k]!;
      // `=` ends a function type in an annotation (`x: Record<K, () => V> = …`).
      else if (CLOSERS.has(tok.text) || [",", ";", "="].includes(tok.text)) return k - 1;
      if (k < 0) return -1;
    }
    return this.t.length - 1;
  }

  /** The first token of the arrow at `i`: its parameters (or `async`). */
  private arrowStart(i: number): number {
    let p = i - 1;
    if (!this.is(p, "punct", ")") && !(this.is(p, "name") && !this.is(p - 1, "punct", ":"))) {
      // A return type: back to the `)` of the parameters before its `:`.
      while (p > 0 && !(this.is(p, "punct", ":") && this.is(p - 1, "punct", ")"))) p--;
      p--;
    }
    const start = this.is(p, "punct", ")") ? this.partner[p]! : p;
    return this.is(start - 1, "name", "async") ? start - 1 : start;
  }

  /** The name a function expression starting at `start` gets from what is before it. */
  private nameBefore(start: number): string {
    const p = start - 1;
    const prev = this.t[p];
    if (prev === undefined) return "<anonymous>";
    if (prev.text === "=" || (prev.text === ":" && this.inObject(p))) {
      // `const name: Type = …`: back over the type, on the level of the `=`.
      for (let k = p - 1; k >= 0 && !this.is(k, "punct", ";"); k--) {
        if (this.parent[k] !== this.parent[p]) continue;
        if (["const", "let", "var"].includes(this.t[k]!.text)) return this.t[k + 1]!.text;
      }
      const name = this.t[p - 1];
      return name?.kind === "name" || name?.kind === "string" ? name.text : "<anonymous>";
    }
    if (prev.text === "(" || prev.text === ",") return this.callbackName(p);
    if (prev.text === "default") return "default";
    return "<anonymous>";
  }

  private inObject(p: number): boolean {
    return this.is(this.parent[p]!, "punct", "{") &&
      (this.is(p - 2, "punct", "{") || this.is(p - 2, "punct", ","));
  }

  /** `callback of app.get("/path")` for a function passed to `app.get("/path", …)`. */
  private callbackName(p: number): string {
    const open = this.is(p, "punct", "(") ? p : this.parent[p]!;
    if (!this.is(open, "punct", "(")) return "<anonymous>";
    let k = open - 1;
    while (this.is(k, "name") && this.is(k - 1, "punct", ".") && this.is(k - 2, "name")) k -= 2;
    const callee = this.t.slice(k, open).map((tok) => tok.text).join("");
    const first = this.is(open + 1, "string") ? `(${this.t[open + 1]!.text})` : "";
    return callee === "" ? "<anonymous>" : `callback of ${callee}${first}`;
  }
}

/** The functions of a module's source; `jsx` for a .tsx module. */
function functionsOf(source: string, jsx: boolean): FunctionSpan[] {
  return new FunctionFinder(tokensOf(source, jsx)).find();
}

/** A function longer than the limit, and the module it is in (path under src/). */
interface LongFunction extends FunctionSpan {
  readonly path: string;
}

/** The functions of `modules` (path under src/ → source) longer than the limit. */
function longFunctions(modules: ReadonlyMap<string, string>): LongFunction[] {
  const found: LongFunction[] = [];
  for (const [path, source] of modules) {
    for (const f of functionsOf(source, path.endsWith(".tsx"))) {
      if (f.lines > MAX_LINES) found.push({ ...f, path });
    }
  }
  return found;
}

/** Every .ts and .tsx module under src/ (not .d.ts), by path under src/. */
async function sources(dir = SRC, prefix = ""): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) {
      for (const [p, s] of await sources(`${dir}${entry.name}/`, `${path}/`)) found.set(p, s);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
      found.set(path, await Deno.readTextFile(`${dir}${entry.name}`));
    }
  }
  return found;
}

/**
 * What is wrong with `modules`: each function longer than the limit (`path:line name
 * N lines`) unless ALLOWED names it or a function it is in, and each ALLOWED entry
 * that names no function longer than the limit.
 */
function lengthProblems(
  modules: ReadonlyMap<string, string>,
  allowed: readonly { path: string; name: string }[] = ALLOWED,
): string[] {
  const long = longFunctions(modules);
  const isAllowed = (f: LongFunction) =>
    allowed.some((a) => a.path === f.path && [...f.within, f.name].includes(a.name));
  const problems = long.filter((f) => !isAllowed(f)).map((f) =>
    `${f.path}:${f.line} ${f.name} ${f.lines} lines`
  );
  for (const a of allowed) {
    if (!long.some((f) => f.path === a.path && f.name === a.name)) {
      problems.push(`${a.path} ${a.name} is in ALLOWED but not too long: delete its entry`);
    }
  }
  return problems.sort();
}

Deno.test(`no function under src/ is longer than ${MAX_LINES} lines`, async () => {
  const modules = await sources();
  assert.ok(modules.size > 50, `found only ${modules.size} modules under src/`);
  assert.deepEqual(lengthProblems(modules), []);
});

/** A module with one function `name` of `lines` lines. */
function moduleWith(name: string, lines: number): string {
  const body = Array.from({ length: lines - 3 }, (_, i) => `  total += ${i};\n`).join("");
  return `/** Docs. */\nexport function ${name}(total: number): number {\n${body}  return total;\n}\n`;
}

Deno.test("a function one line over the limit is reported with its place and length", () => {
  assert.equal(functionsOf(moduleWith("fits", MAX_LINES), false)[0]?.lines, MAX_LINES);
  const modules = new Map([
    ["pipeline/fits.ts", moduleWith("fits", MAX_LINES)],
    ["pipeline/long.ts", moduleWith("sumAll", MAX_LINES + 1)],
  ]);
  assert.deepEqual(lengthProblems(modules, []), [
    `pipeline/long.ts:2 sumAll ${MAX_LINES + 1} lines`,
  ]);
});

Deno.test("braces in strings, templates, comments, regular expressions and JSX text are not code", () => {
  const source = [
    "const NOTICES: Record<string, (n: string[]) => string> = {", // 1
    "  created: (list) => `${list.map((x) => `${x}`)} {{ was created`,", // 2
    "};", // 3
    "export function Page(props: { rows: string[] }): unknown {", // 4
    "  const re = /[}{]\\/}/g; // a comment {", // 5
    "  /* { */ const s = '}' + \"{\";", // 6
    "  return (", // 7
    "    <ul title=\"{\" class='}'>", // 8
    "      Don't {/* } */}", // 9
    "      {props.rows.map((r) => <li onClick={() => go(r)}>{r} }</li>)}", // 10
    "    </ul>", // 11
    "  );", // 12
    "}", // 13
    "class Box {", // 14
    "  async *[Symbol.asyncIterator](): AsyncGenerator<number, void, undefined> {", // 15
    "    yield 1;", // 16
    "  }", // 17
    "  #size<T>(of: T): { n: number } {", // 18
    "    return { n: 1 };", // 19
    "  }", // 20
    "}", // 21
    'app.get("/x", async (c) => {', // 22
    "  return c.text(`${c.req.path}`);", // 23
    "});", // 24
    "function outer(): (n: number) => number {", // 25
    "  return (n) =>", // 26
    "    n + 1;", // 27
    "}", // 28
  ].join("\n");
  const found = functionsOf(source, true).map((f) =>
    `${f.line} ${f.name} ${f.lines} [${f.within.join(" > ")}]`
  );
  assert.deepEqual(found.sort(), [
    // A function type in an annotation reads as a function; never a long one.
    "1 <anonymous> 1 []",
    "10 <anonymous> 1 [Page > callback of props.rows.map]",
    "10 callback of props.rows.map 1 [Page]",
    "15 [Symbol.asyncIterator] 3 []",
    "18 #size 3 []",
    "2 callback of list.map 1 [created]",
    "2 created 1 []",
    '22 callback of app.get("/x") 3 []',
    "25 outer 4 []",
    "26 <anonymous> 2 [outer]",
    "4 Page 10 []",
  ]);
});

Deno.test("ALLOWED lets a listed function and those in it be long, and reports an entry not too long", () => {
  const nested = moduleWith("inner", MAX_LINES + 5).replace(
    "export function inner",
    "function inner",
  );
  const modules = new Map([
    ["web/a.ts", `export function outer() {\n${nested}\n  return inner;\n}\n`],
    ["web/b.ts", moduleWith("short", 10)],
  ]);
  assert.deepEqual(lengthProblems(modules, [{ path: "web/a.ts", name: "outer" }]), []);
  assert.deepEqual(lengthProblems(modules, [{ path: "web/a.ts", name: "inner" }]), [
    `web/a.ts:1 outer ${MAX_LINES + 10} lines`,
  ]);
  assert.deepEqual(
    lengthProblems(modules, [{ path: "web/b.ts", name: "short" }]).at(-1),
    "web/b.ts short is in ALLOWED but not too long: delete its entry",
  );
});
