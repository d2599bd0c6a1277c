/**
 * Writes every fixture file of tests/testdata/import/ byte for byte.
 *
 *     deno run --allow-write tests/testdata/import/make.ts
 *
 * The generated files are the fixtures; this script documents how each one was made.
 * Text of the non-UTF-8 files is written with {@linkcode ascii} (which refuses any
 * non-ASCII character) and their accented letters as explicit byte arrays, so no
 * encoder decides what lands in the file. tests/pipeline/fixtures_test.ts checks that
 * {@linkcode fixtures} still produces exactly the committed bytes, and
 * tests/testdata/import/cases.json says what importing each file must do.
 */

type Part = string | number[];

/** ASCII text; anything else must be written as explicit bytes. */
function ascii(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new Error(`non-ASCII character in ${JSON.stringify(text)}`);
    out.push(c);
  }
  return out;
}

/** Strings as ASCII, arrays as raw bytes. */
function raw(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === "string" ? ascii(p) : p));
  return Uint8Array.from(out);
}

/** Strings as UTF-8, arrays as raw bytes. */
function utf8(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === "string" ? new TextEncoder().encode(p) : p));
  return Uint8Array.from(out);
}

/** Rows joined with a field delimiter, each ended with a record delimiter (ASCII only). */
function lines(rows: string[][], end: string, field = "\t"): Uint8Array {
  return raw(rows.map((r) => r.join(field) + end).join(""));
}

// Windows ANSI (windows-1252) bytes.
const CP1252 = {
  eAcute: [0xe9], // é
  nTilde: [0xf1], // ñ
  uUml: [0xfc], // ü
  euro: [0x80], // €
  enDash: [0x96], // –
  leftDq: [0x93], // “
  rightDq: [0x94], // ”
};

// Mac Roman bytes.
const MAC = {
  eAcute: [0x8e], // é
  aAcute: [0x87], // á
  nTilde: [0x96], // ñ
  uUml: [0x9f], // ü
  euro: [0xdb], // € (0xDB was ¤ before Mac OS 8.5)
};

const BOM = [0xef, 0xbb, 0xbf];

/** Every fixture file: name → bytes. */
export function fixtures(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const add = (name: string, bytes: Uint8Array) => {
    if (files.has(name)) throw new Error(`two fixtures named ${name}`);
    files.set(name, bytes);
  };

  // ---------------------------------------------------------------- field delimiters, quotes

  add(
    "teachers_comma_quotes.csv",
    raw(
      'T1,Ada,"Lovelace, Ada","Teacher ""A"""\n',
      'T2,Alan,Turing,Suite"," 4\n',
      'T3,"Grace",Hopper,""\n',
    ),
  );
  add(
    "teachers_tab_bare_quotes.txt",
    raw(
      "T1\tAda\tLovelace\t5'10\"\n",
      'T2\tAlan\tTuring\t"Head, Math"\n',
      'T3\tGrace\tHopper\t"Tab\there"\n',
    ),
  );
  add(
    "teachers_comma_unclosed_quote.csv",
    raw('T1,Ada,Lovelace\nT2,"Alan,Turing\nT3,Grace,Hopper\n'),
  );
  add(
    "teachers_tab_unclosed_quote.txt",
    raw('T1\tAda\tLovelace\nT2\tAlan\tTuring\nT3\tGrace\t"Hopper\nT4\tEdsger\tDijkstra\n'),
  );
  add(
    "teachers_comma_quoted_line_end.csv",
    raw('T1,Ada,Lovelace,"Head,\nMath"\nT2,Alan\n'),
  );

  // ---------------------------------------------------------------- record delimiters

  const two = [["T1", "Ada", "Lovelace"], ["T2", "Alan", "Turing"]];
  add("teachers_lf.txt", lines(two, "\n"));
  add("teachers_crlf.txt", lines(two, "\r\n"));
  add("teachers_cr.txt", lines(two, "\r"));
  add("teachers_crlf_under_lf.txt", lines(two, "\r\n"));
  add("teachers_lf_under_crlf.txt", lines(two, "\n"));
  add("teachers_crlf_under_cr.txt", lines(two, "\r\n"));
  add("teachers_cr_under_lf.txt", lines(two, "\r"));
  add("teachers_cr_under_crlf.txt", lines(two, "\r"));
  add("teachers_lf_under_cr.txt", lines(two, "\n"));

  // ---------------------------------------------------------------- character sets

  // José Müller, title “Café” €5 – Señor
  add(
    "teachers_cp1252.txt",
    raw(
      "T1\tJos",
      CP1252.eAcute,
      "\tM",
      CP1252.uUml,
      "ller\t",
      CP1252.leftDq,
      "Caf",
      CP1252.eAcute,
      CP1252.rightDq,
      " ",
      CP1252.euro,
      "5 ",
      CP1252.enDash,
      " Se",
      CP1252.nTilde,
      "or\r\n",
    ),
  );
  // René Peña and Zoë Brontë in Windows ANSI with CRLF (the setup page's defaults).
  add(
    "students_cp1252.txt",
    raw(
      "1001\tRen",
      CP1252.eAcute,
      "\tPe",
      CP1252.nTilde,
      "a\t3\t08/15/2024\t06/15/2040\r\n",
      "1002\tZo",
      [0xeb],
      "\tBront",
      [0xeb],
      "\t4\t08/15/2024\t06/15/2040\r\n",
    ),
  );
  // Mac Roman é, á, ü, € and ñ: José Sánchez-Müller, title €5 Año, CR line end.
  add(
    "teachers_macroman.txt",
    raw(
      "T1\tJos",
      MAC.eAcute,
      "\tS",
      MAC.aAcute,
      "nchez-M",
      MAC.uUml,
      "ller\t",
      MAC.euro,
      "5 A",
      MAC.nTilde,
      "o\r",
    ),
  );
  // Real ISO 8859-1: é is 0xE9, ÿ is 0xFF, and 0x80 / 0x96 are the C1 controls U+0080 / U+0096.
  add(
    "teachers_latin1_c1.txt",
    raw("T1\tRen", [0xe9], "\tMa", [0xff], "\ta", [0x80], "b", [0x96], "c\n"),
  );
  add("teachers_utf8_bom.txt", utf8(BOM, "T1\tZoë\tBrontë\tCafé ☕\nT2\tAlan\tTuring\t\n"));
  add(
    "teachers_utf8_bom_header.txt",
    utf8(BOM, "TeacherNumber\tFirst_Name\tLast_Name\nT1\tAda\tLovelace\n"),
  );
  // A Windows ANSI é (0xE9) in a file read as UTF-8: line 2, byte offset 22.
  add("teachers_utf8_invalid.txt", raw("T1\tAda\tLovelace\nT2\tRen", [0xe9], "\tX\n"));
  add("teachers_utf8_double_encoded.txt", utf8("T1\tJosÃ©\tGarcÃ­a\n"));

  // ---------------------------------------------------------------- number_of_records=

  add(
    "teachers_count_match.txt",
    raw("number_of_records=2\r\nT1\tAda\tLovelace\r\nT2\tAlan\tTuring\r\n"),
  );
  add(
    "teachers_count_mismatch.txt",
    raw("number_of_records=3\nT1\tAda\tLovelace\nT2\tAlan\tTuring\n"),
  );
  add("teachers_count_missing.txt", raw("T1\tAda\tLovelace\nT2\tAlan\tTuring\n"));
  add(
    "teachers_count_includes_rejected.txt",
    raw("number_of_records=2\nT1\tAda\tLovelace\n\tNo\tKey\n"),
  );
  add("teachers_count_line_option_off.txt", raw("number_of_records=5\nT1\tAda\tLovelace\n"));
  add("teachers_count_zero.txt", raw("number_of_records=0\n"));

  // ---------------------------------------------------------------- headers

  add(
    "teachers_header.txt",
    raw("teachernumber\tFirst_Name\tLAST_NAME\nT1\tAda\tLovelace\nT2\tAlan\n"),
  );
  add(
    "teachers_header_other_order.txt",
    raw("Last_Name\tFirst_Name\tTeacherNumber\nLovelace\tAda\tT1\n"),
  );
  add("teachers_header_only.txt", raw("TeacherNumber\tFirst_Name\tLast_Name\n"));

  // ---------------------------------------------------------------- rows

  add("teachers_blank_lines.txt", raw("T1\tAda\tLovelace\n\n   \nT2\tAlan\tTuring\nT3\n"));
  add("teachers_short_row.txt", raw("T1\tAugusta\nT2\tAlan\tTuring\tProfessor\n"));
  add("teachers_extra_fields.txt", raw("T1\tAda\tLovelace\t\t\nT2\tAlan\tTuring\tx\n"));
  add(
    "teachers_trimmed.txt",
    raw("  007 \t Ada \tLovelace  \t  Head of Math \n0070\tAlan\tTuring\t\n"),
  );
  add(
    "students_values.txt",
    utf8(
      [
        // Student_Number, First_Name, Last_Name, Grade_Level, EntryDate, ExitDate, DOB, Graduation_Year
        ["1", "Ann", "Lee", "3", "08/15/2024", "06/15/2040", "2/29/2016", "2030"],
        ["2", "Bob", "Lee", "3.0", "2024-08-15", "2040-06-15", "00/00/0000", "2031.0"],
        ["3", "Cy", "Lee", "3", "8/15/2024", "6/15/2040", "0/0/0", ""],
        ["4", "Di", "Lee", "three", "08/15/2024", "06/15/2040", "", ""],
        ["5", "E".repeat(51), "Lee", "3", "08/15/2024", "06/15/2040", "", ""],
        ["6", "Fay", "Lee", "3", "08/15/2024", "06/15/2040", "2016-13-01", ""],
        ["7", "Gus", "Lee", "3", "08/15/2024", "06/15/2040", "31/12/2016", ""],
        ["8", "Hal", "Lee", "3", "08/15/2024", "06/15/2040", "2/30/2016", "2030.5"],
        ["9", "Ida", "Lee", "3", "08/15/2024", "06/15/2040", "1/2/16", "2,030"],
        ["224401.0", "Joy", "Lee", "3", "08/15/2024", "06/15/2040", "", ""],
        ["0012", "Kim", "Lee", "3", "08/15/2024", "06/15/2040", "", ""],
        ["13", "Lou", "Lee", "3", "13/01/2024", "06/15/2040", "", ""],
      ].map((r) => r.join("\t") + "\n").join(""),
    ),
  );
  add(
    "courses_decimals.txt",
    raw(
      "MATH\tMathematics\t1.5\nELA\tEnglish\t.5\nART\tArt\t1,5\nPE\tPhysical Education\tone\nMUS\tMusic\t-0.25\nSCI\tScience\t2.\n",
    ),
  );
  add(
    "teachers_booleans.txt",
    raw(
      [
        ["T1", "Ada", "Lovelace", "true"],
        ["T2", "Alan", "Turing", "F"],
        ["T3", "Grace", "Hopper", "YES"],
        ["T4", "Edsger", "Dijkstra", "0"],
        ["T5", "Barbara", "Liskov", "maybe"],
        ["T6", "Donald", "Knuth", "2"],
        ["T7", "John", "Backus", ""],
      ].map((r) => r.join("\t") + "\n").join(""),
    ),
  );
  add(
    "teachers_too_long.txt",
    raw(
      `${"T".repeat(21)}\tAda\tLovelace\t\n`,
      `${"T".repeat(20)}\tAlan\tTuring\t${"x".repeat(40)}\n`,
      `T3\tGrace\tHopper\t${"x".repeat(41)}\n`,
    ),
  );
  add(
    "teachers_duplicate_keys.txt",
    lines([["T1", "Ada", "Lovelace"], ["T2", "Alan", "Turing"], ["T1", "Augusta", "King"]], "\n"),
  );

  // ---------------------------------------------------------------- empty files

  add("teachers_empty.txt", raw(""));
  add("teachers_blank_lines_only.txt", raw("\r\n  \r\n\r\n"));

  return files;
}

if (import.meta.main) {
  const dir = new URL("./", import.meta.url);
  for (const [name, bytes] of fixtures()) await Deno.writeFile(new URL(name, dir), bytes);
  console.log(`wrote ${fixtures().size} files to ${dir.pathname}`);
}
