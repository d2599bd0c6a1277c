/**
 * The demo district: two schools with terms, periods, days and attendance codes,
 * an extension table on Students, example files under the import root, and one
 * AutoComm record per file so a new user can run everything in minutes.
 */
import type { Db } from "../db/client.ts";
import { createRecord, findRecordByName } from "../records/store.ts";
import { loadSetup, type SetupFile } from "../sis/setup.ts";

/** The school year the demo uses: the one under way (from August) on `today`. */
export function demoYear(today: Date = new Date()): number {
  return today.getUTCMonth() >= 6 ? today.getUTCFullYear() : today.getUTCFullYear() - 1;
}

/** PowerSchool's TermID of a school year's full-year term: (start year − 1990) × 100. */
export function yearTermId(year: number): number {
  return (year - 1990) * 100;
}

function demoTerms(year: number) {
  const id = yearTermId(year);
  return [
    {
      id,
      abbreviation: `${year % 100}-${(year + 1) % 100}`,
      firstDay: `${year}-08-17`,
      lastDay: `${year + 1}-05-28`,
    },
    { id: id + 1, abbreviation: "S1", firstDay: `${year}-08-17`, lastDay: `${year}-12-18` },
    { id: id + 2, abbreviation: "S2", firstDay: `${year + 1}-01-04`, lastDay: `${year + 1}-05-28` },
  ];
}

/** School setup of the demo district, for the school year under way. */
export function demoSetup(year: number = demoYear()): SetupFile {
  return {
    schools: [
      {
        schoolNumber: 100,
        name: "Lincoln Elementary",
        attendanceMethod: "daily",
        terms: demoTerms(year),
        periods: [1, 2, 3, 4, 5, 6].map((n) => ({ abbreviation: String(n), sortOrder: n })),
        days: ["A", "B", "C", "D", "E"].map((d, i) => ({ abbreviation: d, sortOrder: i + 1 })),
        attendanceCodes: [
          { id: 10, code: "P", description: "Present", presence: "present" },
          { id: 11, code: "A", description: "Absent", presence: "absent" },
          { id: 12, code: "T", description: "Tardy", presence: "tardy" },
          { id: 13, code: "EX", description: "Excused", presence: "excused" },
        ],
      },
      {
        schoolNumber: 200,
        name: "Washington High",
        attendanceMethod: "both",
        terms: demoTerms(year),
        periods: ["HR", "1", "2", "3", "4", "5", "6", "7"].map((p, i) => ({
          abbreviation: p,
          sortOrder: i,
        })),
        days: ["M", "T", "W", "H", "F"].map((d, i) => ({ abbreviation: d, sortOrder: i + 1 })),
        attendanceCodes: [
          { id: 20, code: "P", description: "Present", presence: "present" },
          { id: 21, code: "A", description: "Absent", presence: "absent" },
          { id: 22, code: "T", description: "Tardy", presence: "tardy" },
          { id: 23, code: "EX", description: "Excused", presence: "excused" },
        ],
      },
    ],
    extensions: [{
      table: "students",
      name: "U_StudentsUserFields",
      fields: [
        { name: "homeroom_number", type: "text", maxLength: 10 },
        { name: "email", type: "text", maxLength: 100 },
      ],
    }],
  };
}

/** A demo file: where it goes under the import root, its bytes, and the record reading it. */
export interface DemoFile {
  path: string;
  content: string;
  record: {
    name: string;
    schoolId: number;
    table: string;
    attendanceMode?: string;
    fields: string[];
    sortOrder: number;
  };
}

const tsv = (rows: string[][]) => rows.map((r) => r.join("\t")).join("\r\n") + "\r\n";

/** The example files and records of the demo (tab-delimited, CRLF, Windows ANSI). */
export function demoFiles(year: number = demoYear()): DemoFile[] {
  return [...masterScheduleFiles(year), ...studentFiles(year)];
}

/** The school's teachers, courses and sections (a section per course, two terms). */
function masterScheduleFiles(year: number): DemoFile[] {
  const y = yearTermId(year);
  return [
    {
      path: "demo/100/teachers.txt",
      content: tsv([
        ["T100", "Ada", "Lovelace", "Teacher", "ada.lovelace@example.org"],
        ["T101", "Grace", "Hopper", "Teacher", "grace.hopper@example.org"],
        ["T102", "Alan", "Turing", "Principal", "alan.turing@example.org"],
      ]),
      record: {
        name: "Teachers",
        schoolId: 100,
        table: "teachers",
        fields: ["TeacherNumber", "First_Name", "Last_Name", "Title", "Email_Addr"],
        sortOrder: 1,
      },
    },
    {
      path: "demo/100/courses.txt",
      content: tsv([
        ["MATH3", "Mathematics 3", "1.0"],
        ["ELA3", "English Language Arts 3", "1.0"],
        ["SCI3", "Science 3", "0.5"],
      ]),
      record: {
        name: "Courses",
        schoolId: 100,
        table: "courses",
        fields: ["Course_Number", "Course_Name", "Credit_Hours"],
        sortOrder: 2,
      },
    },
    {
      path: "demo/100/sections.txt",
      content: tsv([
        [String(y), "MATH3", "1", "1(A-E)", "T100", "101"],
        [String(y), "ELA3", "1", "2(A-E)", "T101", "102"],
        [String(y + 1), "SCI3", "1", "3(A,C,E)", "T100", "Lab"],
      ]),
      record: {
        name: "Sections",
        schoolId: 100,
        table: "sections",
        fields: ["TermID", "Course_Number", "Section_Number", "Expression", "Teacher", "Room"],
        sortOrder: 3,
      },
    },
  ];
}

/** The school's students (dates written several ways), their schedules and attendance. */
function studentFiles(year: number): DemoFile[] {
  const y = yearTermId(year);
  const first = `08/17/${year}`;
  return [
    {
      path: "demo/100/students.txt",
      content: tsv([
        ["1001", "José", "García", "3", first, "F", "3A", "jose@example.org"],
        ["1002", "Zoë", "Brontë", "3", first, "F", "3A", "zoe@example.org"],
        ["1003", "Liam", "O'Brien", "3", `${year}-08-17`, "M", "3B", ""],
        ["1004", "Amara", "Okafor", "3", `9/2/${year}`, "F", "3B", ""],
        ["1005", "Noah", "Smith", "3", `13/01/${year}`, "M", "3B", ""],
      ]),
      record: {
        name: "Students",
        schoolId: 100,
        table: "students",
        fields: [
          "Student_Number",
          "First_Name",
          "Last_Name",
          "Grade_Level",
          "EntryDate",
          "Gender",
          "U_StudentsUserFields.homeroom_number",
          "[U_StudentsUserFields].[email]",
        ],
        sortOrder: 4,
      },
    },
    {
      path: "demo/100/schedules.txt",
      content: tsv([
        ["1001", String(y), "MATH3", "1", first],
        ["1001", String(y), "ELA3", "1", first],
        ["1002", String(y), "MATH3", "1", first],
        ["1003", String(y + 1), "SCI3", "1", first],
      ]),
      record: {
        name: "Student schedules",
        schoolId: 100,
        table: "schedules",
        fields: ["Student_Number", "TermID", "Course_Number", "Section_Number", "DateEnrolled"],
        sortOrder: 5,
      },
    },
    {
      path: "demo/100/attendance.txt",
      content: tsv([
        ["1001", `09/15/${year}`, "A", ""],
        ["1002", `09/15/${year}`, "T", "Bus late"],
      ]),
      record: {
        name: "Daily attendance",
        schoolId: 100,
        table: "attendance",
        attendanceMode: "daily",
        fields: ["Student_Number", "Att_Date", "Att_Code", "Att_Comment"],
        sortOrder: 6,
      },
    },
  ];
}

/** Encodes text as Windows ANSI (the demo uses only Latin-1 letters). */
export function encodeWindows1252(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`character U+${c.toString(16)} is not in the demo charset`);
    bytes[i] = c;
  }
  return bytes;
}

/** What {@linkcode seedDemo} did. */
export interface SeedResult {
  files: string[];
  recordsCreated: string[];
}

/** Loads the demo setup, writes the example files, and creates the demo records. */
export async function seedDemo(db: Db, importRoot: string): Promise<SeedResult> {
  const year = demoYear();
  await loadSetup(db, demoSetup(year));
  const files: string[] = [];
  const recordsCreated: string[] = [];
  for (const file of demoFiles(year)) {
    const full = `${importRoot}/${file.path}`;
    await Deno.mkdir(full.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeFile(full, encodeWindows1252(file.content));
    files.push(full);
    if (await findRecordByName(db, file.record.schoolId, file.record.name)) continue;
    await createRecord(db, {
      ...file.record,
      path: file.path.replace(/\//g, "\\"),
      fieldDelimiter: "tab",
      recordDelimiter: "CRLF",
      charset: "windows-1252",
      hour: 6,
      minute: 0,
      days: "MTWHF",
      executionOff: true,
      updateExisting: true,
      minFileAgeSeconds: 0,
    });
    recordsCreated.push(`${file.record.schoolId}/${file.record.name}`);
  }
  return { files, recordsCreated };
}
