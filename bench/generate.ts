/**
 * The bench's district: school setup and seeded, reproducible TSV files (UTF-8, LF,
 * accented names) for the six import tables, each in two versions — the base file
 * (first import and identical re-import) and the changed file (10 % of rows changed,
 * 5 % missing) — with the counts an import of each should report.
 *
 * Everything is in ONE school (School_Number 100), so every scenario is one AutoComm
 * import of one file in that school's context, exactly like one `sqlite3 .import`.
 */
import { hash32, Rng } from "./prng.ts";

/** The bench's tables in dependency order. */
export const TABLE_ORDER = [
  "teachers",
  "courses",
  "sections",
  "students",
  "schedules",
  "attendance",
] as const;
export type BenchTable = typeof TABLE_ORDER[number];

/** Tables whose rows a table's rows refer to. */
export const DEPENDS_ON: Record<BenchTable, readonly BenchTable[]> = {
  teachers: [],
  courses: [],
  sections: ["courses", "teachers"],
  students: [],
  schedules: ["students", "sections"],
  attendance: ["students"],
};

/** The AutoComm field list of each file (the columns, in order). */
export const FIELDS: Record<BenchTable, readonly string[]> = {
  teachers: [
    "TeacherNumber",
    "SchoolID",
    "HomeSchoolID",
    "First_Name",
    "Middle_Name",
    "Last_Name",
    "Title",
    "Email_Addr",
    "Home_Phone",
    "StaffStatus",
    "LoginID",
    "TeacherLoginID",
    "SIF_StatePrid",
    "Sched_Gender",
  ],
  courses: [
    "Course_Number",
    "Course_Name",
    "Credit_Hours",
    "CreditType",
    "Sched_Department",
    "Alt_Course_Number",
    "Code",
  ],
  sections: [
    "SchoolID",
    "TermID",
    "Course_Number",
    "Section_Number",
    "Expression",
    "Teacher",
    "Room",
    "MaxEnrollment",
    "Grade_Level",
  ],
  students: [
    "Student_Number",
    "SchoolID",
    "First_Name",
    "Middle_Name",
    "Last_Name",
    "Grade_Level",
    "DOB",
    "Gender",
    "EntryDate",
    "EntryCode",
    "Home_Room",
    "Street",
    "City",
    "State",
    "Zip",
    "Home_Phone",
    "Ethnicity",
    "State_StudentNumber",
    "Lunch_ID",
    "Network_ID",
    "Student_Web_ID",
    "Graduation_Year",
    "District_Entry_Date",
    "Mother",
    "Mother_Email",
  ],
  schedules: [
    "Student_Number",
    "SchoolID",
    "TermID",
    "Course_Number",
    "Section_Number",
    "DateEnrolled",
    "Expression",
  ],
  attendance: ["Student_Number", "SchoolID", "Att_Date", "Att_Code", "Att_Comment"],
};

/** Sizes at scale 1 (schedules: 7 per student; attendance: one day, one row per student). */
export const FULL_SIZES = {
  teachers: 12_000,
  courses: 3_000,
  sections: 40_000,
  students: 200_000,
  schedulesPerStudent: 7,
} as const;

export const SCHOOL = 100;
/** The school year 2026–27: PowerSchool TermIDs (year − 1990) × 100, +1/+2 for semesters. */
export const TERMS = [
  { id: 3600, abbreviation: "26-27", firstDay: "2026-08-17", lastDay: "2027-05-28" },
  { id: 3601, abbreviation: "S1", firstDay: "2026-08-17", lastDay: "2026-12-18" },
  { id: 3602, abbreviation: "S2", firstDay: "2027-01-04", lastDay: "2027-05-28" },
] as const;
const PERIODS = ["1", "2", "3", "4", "5", "6", "7", "8"];
const DAYS = ["A", "B", "C", "D", "E"];
const ATT_CODES = [
  { id: 10, code: "P", description: "Present", presence: "present" },
  { id: 11, code: "A", description: "Absent", presence: "absent" },
  { id: 12, code: "T", description: "Tardy", presence: "tardy" },
  { id: 13, code: "EX", description: "Excused", presence: "excused" },
] as const;
/** The one day of attendance (a Wednesday inside the first semester). */
export const ATT_DATE = "2026-11-18";

/** The school setup file for `autocomm setup load`. */
export function setupJson(): unknown {
  return {
    schools: [{
      schoolNumber: SCHOOL,
      name: "Lincoln–Roosevelt Unified (bench)",
      attendanceMethod: "daily",
      terms: TERMS,
      periods: PERIODS.map((p, i) => ({ abbreviation: p, sortOrder: i + 1 })),
      days: DAYS.map((d, i) => ({ abbreviation: d, sortOrder: i + 1 })),
      attendanceCodes: ATT_CODES,
    }],
    extensions: [],
  };
}

// ---------------------------------------------------------------- vocabulary

const FEMALE = [
  "María",
  "José",
  "Zoë",
  "Chloé",
  "Amélie",
  "Inés",
  "Sofía",
  "Noémie",
  "Björk",
  "Łucja",
  "Anaïs",
  "Renée",
  "Olivia",
  "Emma",
  "Ava",
  "Mia",
  "Harper",
  "Aaliyah",
  "Nguyễn Thị",
  "Siobhán",
  "Åsa",
  "Dóra",
  "Camila",
  "Grace",
];
const MALE = [
  "José",
  "André",
  "François",
  "Jürgen",
  "Søren",
  "Mikołaj",
  "Ángel",
  "Raúl",
  "Óscar",
  "Noël",
  "Liam",
  "Noah",
  "Elijah",
  "James",
  "Mateo",
  "Lucas",
  "Đức",
  "Jökull",
  "Ethan",
  "Benjamín",
  "Çağan",
  "Thiago",
  "Henry",
  "Malik",
];
const LAST = [
  "García",
  "Martínez",
  "Hernández",
  "López",
  "Núñez",
  "Muñoz",
  "Müller",
  "Schäfer",
  "Öztürk",
  "Brontë",
  "Lefèvre",
  "Côté",
  "Gagné",
  "Nguyễn",
  "Trần",
  "Kowalczyk",
  "Wójcik",
  "Ødegård",
  "Johansson",
  "Smith",
  "Johnson",
  "Williams",
  "Brown",
  "Jones",
  "Davis",
  "Miller",
  "Wilson",
  "Anderson",
  "Thomas",
  "O'Brien",
  "Dvořák",
  "Søndergaard",
  "Peña",
  "Ibáñez",
  "Castañeda",
  "Zúñiga",
];
const STREETS = [
  "Oak",
  "Maple",
  "Cedar",
  "Pine",
  "Elm",
  "Willow",
  "Birch",
  "Alameda",
  "Cañada",
  "Peñasco",
  "Mountain View",
  "Lake",
  "Hillside",
  "Sunset",
  "Washington",
  "Lincoln",
];
const SUFFIX = ["St", "Ave", "Rd", "Ln", "Dr", "Ct", "Way", "Blvd"];
const CITIES: readonly [string, string][] = [
  ["Española", "NM"],
  ["Cañon City", "CO"],
  ["Portland", "OR"],
  ["Salem", "OR"],
  ["Eugene", "OR"],
  ["La Grande", "OR"],
  ["Vancouver", "WA"],
  ["Spokane", "WA"],
  ["Peñasco", "NM"],
  ["Santa Fe", "NM"],
  ["Pueblo", "CO"],
  ["Boise", "ID"],
];
const TITLES = [
  "Teacher",
  "Lead Teacher",
  "Counselor",
  "Librarian",
  "Assistant Principal",
  "Instructional Coach",
  "Special Education Teacher",
  "Paraeducator",
];
const DEPTS: readonly [string, string, readonly string[]][] = [
  ["MAT", "Mathematics", ["Álgebra", "Geometry", "Pre-Calculus", "Statistics", "Calculus"]],
  ["ENG", "English", ["English", "Literature", "Creative Writing", "Journalism"]],
  ["SCI", "Science", ["Biology", "Chemistry", "Physics", "Earth Science", "Química"]],
  ["SOC", "Social Studies", ["World History", "U.S. History", "Civics", "Economics"]],
  ["WLG", "World Languages", ["Español", "Français", "Deutsch", "Português", "日本語"]],
  ["ART", "Fine Arts", ["Música Coral", "Band", "Orchestra", "Ceramics", "Drawing"]],
  ["PED", "Physical Ed", ["Educación Física", "Health", "Weight Training"]],
  ["CTE", "Career Tech", ["Robotics", "Culinary Arts", "Woodworking", "Web Design"]],
];
const LEVELS = ["I", "II", "III", "IV", "Honors", "AP", "Intro", "Adv"];
const COMMENTS = [
  "Dentist appointment",
  "Llegó tarde — autobús",
  "Parent called",
  "Note from home",
  "Médico",
  "Family emergency",
];

function ascii(s: string): string {
  return s.normalize("NFD").replace(/[^A-Za-z]/g, "").toLowerCase();
}

// ---------------------------------------------------------------- dates

const DAY_MS = 86_400_000;
function dayNum(iso: string): number {
  return Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
}
const mdyCache = new Map<number, string>();
/** A day number as MM/DD/YYYY (the format SIS exports use). */
function mdy(day: number): string {
  let s = mdyCache.get(day);
  if (s === undefined) {
    const iso = new Date(day * DAY_MS).toISOString();
    s = `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}`;
    mdyCache.set(day, s);
  }
  return s;
}
const TERM_FIRST = new Map<number, number>(TERMS.map((t) => [t.id, dayNum(t.firstDay)]));

// ---------------------------------------------------------------- the district

/** Sizes of one bench run. */
export interface Sizes {
  teachers: number;
  courses: number;
  sections: number;
  students: number;
  schedules: number;
  attendance: number;
}

/** Sizes at a scale (1 = the full district). */
export function sizesAt(scale: number): Sizes {
  const n = (x: number) => Math.max(10, Math.round(x * scale));
  const students = n(FULL_SIZES.students);
  return {
    teachers: n(FULL_SIZES.teachers),
    courses: n(FULL_SIZES.courses),
    sections: n(FULL_SIZES.sections),
    students,
    schedules: students * FULL_SIZES.schedulesPerStudent,
    attendance: students,
  };
}

/** What an import of a file should report. */
export interface Expected {
  /** Data rows of the base file. */
  rows: number;
  /** Data rows of the changed file. */
  changedRows: number;
  /** Rows of the changed file whose values differ from the base file. */
  changed: number;
  /** Rows of the base file that the changed file leaves out. */
  missing: number;
}

/** The files of one table. */
export interface TableFiles {
  base: string;
  changed: string;
  bytes: number;
  expected: Expected;
}

const SALT: Record<BenchTable, number> = {
  teachers: 1,
  courses: 2,
  sections: 3,
  students: 4,
  schedules: 5,
  attendance: 6,
};

/** 0 kept as is, 1 changed, 2 missing from the changed file (5 % missing, 10 % changed). */
function fate(seed: number, table: BenchTable, i: number): 0 | 1 | 2 {
  const r = hash32(seed, SALT[table] + 100, i) / 4294967296;
  return r < 0.05 ? 2 : r < 0.15 ? 1 : 0;
}

function courseNumber(c: number): string {
  return `${DEPTS[c % DEPTS.length]![0]}${1000 + c}`;
}
function teacherNumber(t: number): string {
  return `T${String(t + 1).padStart(5, "0")}`;
}
function studentNumber(s: number): number {
  return 1_000_001 + s;
}

/** The section metadata schedules need (sections are numbered within their course). */
interface SectionInfo {
  term: Int32Array;
  expression: string[];
}

function sectionKey(sizes: Sizes, i: number): { course: string; number: string } {
  return {
    course: courseNumber(i % sizes.courses),
    number: String(Math.floor(i / sizes.courses) + 1),
  };
}

function expressionFor(r: Rng): string {
  const p = r.int(1, 8);
  const kind = r.next();
  if (kind < 0.7) return `${p}(A-E)`;
  if (kind < 0.85) return `${p}(A,C,E)`;
  if (kind < 0.95) return `${p}(B,D)`;
  const q = p === 8 ? 7 : p;
  return `${q}-${q + 1}(A) ${q}(B-D)`;
}

function sectionInfo(seed: number, sizes: Sizes): SectionInfo {
  const term = new Int32Array(sizes.sections);
  const expression: string[] = [];
  for (let i = 0; i < sizes.sections; i++) {
    const r = new Rng(hash32(seed, SALT.sections, i));
    const t = r.next();
    term[i] = t < 0.6 ? 3600 : t < 0.8 ? 3601 : 3602;
    expression.push(expressionFor(r));
  }
  return { term, expression };
}

type RowFn = (i: number) => string[];
type MutateFn = (i: number, row: string[], r: Rng) => void;

interface Builder {
  count: number;
  row: RowFn;
  mutate: MutateFn;
}

function builders(seed: number, sizes: Sizes): Record<BenchTable, () => Builder> {
  const rng = (t: BenchTable, i: number) => new Rng(hash32(seed, SALT[t], i));
  return {
    teachers: () => ({
      count: sizes.teachers,
      row: (i) => {
        const r = rng("teachers", i);
        const female = r.chance(0.6);
        const first = r.pick(female ? FEMALE : MALE);
        const last = r.pick(LAST);
        const login = `${ascii(first).slice(0, 1)}${ascii(last)}`.slice(0, 12);
        return [
          teacherNumber(i),
          String(SCHOOL),
          String(SCHOOL),
          first,
          r.chance(0.5) ? r.pick(female ? FEMALE : MALE) : "",
          last,
          r.pick(TITLES),
          `${ascii(first)}.${ascii(last)}${i}@district.example.org`.slice(0, 50),
          `(${r.int(201, 989)}) 555-${r.digits(4)}`,
          r.chance(0.85) ? "1" : "2",
          `${login}${i}`,
          `t${login}${i}`,
          r.digits(9),
          female ? "F" : r.chance(0.95) ? "M" : "X",
        ];
      },
      mutate: (_i, row, r) => {
        row[6] = TITLES[(TITLES.indexOf(row[6]!) + 1) % TITLES.length]!;
        row[7] = row[7]!.replace("@district.example.org", "@staff.example.org");
        row[8] = `(${r.int(201, 989)}) 556-${r.digits(4)}`;
      },
    }),
    courses: () => ({
      count: sizes.courses,
      row: (i) => {
        const r = rng("courses", i);
        const [code, dept, subjects] = DEPTS[i % DEPTS.length]!;
        const name = `${r.pick(subjects)} ${r.pick(LEVELS)}`;
        return [
          courseNumber(i),
          name,
          r.chance(0.7) ? "1.0" : "0.5",
          code,
          dept,
          r.digits(5),
          r.pick(["CORE", "ELEC", "AP", "IB", "CTE"]),
        ];
      },
      mutate: (_i, row) => {
        row[1] = `${row[1]} (rev.)`.slice(0, 40);
        row[2] = row[2] === "1.0" ? "0.5" : "1.0";
      },
    }),
    sections: () => ({
      count: sizes.sections,
      row: (i) => {
        const r = rng("sections", i);
        const t = r.next();
        const term = t < 0.6 ? 3600 : t < 0.8 ? 3601 : 3602;
        const expression = expressionFor(r);
        const key = sectionKey(sizes, i);
        return [
          String(SCHOOL),
          String(term),
          key.course,
          key.number,
          expression,
          teacherNumber(r.int(0, sizes.teachers - 1)),
          `${r.pick(["A", "B", "C", "G", "P"])}${r.int(100, 299)}`,
          String(r.int(24, 36)),
          String(r.int(9, 12)),
        ];
      },
      mutate: (_i, row, r) => {
        row[5] = teacherNumber(r.int(0, sizes.teachers - 1));
        row[6] = `${row[6]}X`;
        row[7] = String(Number(row[7]) + 2);
      },
    }),
    students: () => ({
      count: sizes.students,
      row: (i) => {
        const r = rng("students", i);
        const female = r.chance(0.49);
        const first = r.pick(female ? FEMALE : MALE);
        const last = r.pick(LAST);
        const grade = r.int(-1, 12);
        const born = dayNum(`${2026 - 6 - grade}-01-01`) - r.int(0, 364) + 240;
        const [city, state] = r.pick(CITIES);
        const mother = r.pick(FEMALE);
        const ident = `${ascii(first).slice(0, 1)}${ascii(last).slice(0, 12)}${i}`;
        return [
          String(studentNumber(i)),
          String(SCHOOL),
          first,
          r.chance(0.65) ? r.pick(female ? FEMALE : MALE) : "",
          last,
          String(grade),
          mdy(born),
          female ? "F" : r.chance(0.96) ? "M" : "X",
          mdy(dayNum("2026-08-17") + r.int(0, 40)),
          r.pick(["E1", "E2", "R1", "R2", "ND"]),
          `${r.pick(["A", "B", "C", "D"])}${r.int(100, 299)}`,
          `${r.int(10, 99999)} ${r.pick(STREETS)} ${r.pick(SUFFIX)}`,
          city,
          state,
          r.digits(5),
          `(${r.int(201, 989)}) 555-${r.digits(4)}`,
          r.pick(["1", "2", "3", "4", "5", "6", "7"]),
          r.digits(10),
          String(50_000 + i),
          ident,
          `${ident}w`,
          String(2027 + 12 - grade),
          mdy(dayNum(`${2026 - Math.max(0, grade) - r.int(0, 1)}-08-20`) + r.int(0, 30)),
          `${mother} ${last}`,
          `${ascii(mother)}.${ascii(last)}${i}@example.net`.slice(0, 50),
        ];
      },
      mutate: (_i, row, r) => {
        const [city, state] = r.pick(CITIES);
        row[11] = `${r.int(10, 99999)} ${r.pick(STREETS)} ${r.pick(SUFFIX)} Apt ${r.int(1, 40)}`;
        row[12] = city;
        row[13] = state;
        row[14] = r.digits(5);
        row[15] = `(${r.int(201, 989)}) 556-${r.digits(4)}`;
      },
    }),
    schedules: () => {
      const info = sectionInfo(seed, sizes);
      const per = FULL_SIZES.schedulesPerStudent;
      let cachedStudent = -1;
      let cachedSections: number[] = [];
      const sectionsOf = (s: number) => {
        if (s !== cachedStudent) {
          const r = rng("schedules", s);
          const chosen = new Set<number>();
          while (chosen.size < Math.min(per, sizes.sections)) {
            chosen.add(r.int(0, sizes.sections - 1));
          }
          cachedStudent = s;
          cachedSections = [...chosen];
        }
        return cachedSections;
      };
      return {
        count: sizes.schedules,
        row: (i) => {
          const s = Math.floor(i / per);
          const sec = sectionsOf(s)[i % per]!;
          const term = info.term[sec]!;
          const key = sectionKey(sizes, sec);
          const r = new Rng(hash32(seed, SALT.schedules + 50, i));
          return [
            String(studentNumber(s)),
            String(SCHOOL),
            String(term),
            key.course,
            key.number,
            mdy(TERM_FIRST.get(term)! + r.int(0, 14)),
            info.expression[sec]!,
          ];
        },
        mutate: (_i, row, r) => {
          const [m, d, y] = row[5]!.split("/");
          row[5] = mdy(dayNum(`${y}-${m}-${d}`) + r.int(1, 7));
        },
      };
    },
    attendance: () => ({
      count: sizes.attendance,
      row: (i) => {
        const r = rng("attendance", i);
        const x = r.next();
        const code = x < 0.85 ? "P" : x < 0.92 ? "A" : x < 0.97 ? "T" : "EX";
        return [
          String(studentNumber(i)),
          String(SCHOOL),
          mdy(dayNum(ATT_DATE)),
          code,
          code !== "P" && r.chance(0.4) ? r.pick(COMMENTS) : "",
        ];
      },
      mutate: (_i, row, r) => {
        const codes = ATT_CODES.map((c) => c.code as string);
        row[3] = codes[(codes.indexOf(row[3]!) + 1) % codes.length]!;
        row[4] = r.pick(COMMENTS);
      },
    }),
  };
}

/** Buffers lines and writes them in large UTF-8 chunks. */
class TsvWriter {
  #file: Deno.FsFile;
  #lines: string[] = [];
  #encoder = new TextEncoder();
  bytes = 0;
  constructor(file: Deno.FsFile) {
    this.#file = file;
  }
  async add(line: string) {
    this.#lines.push(line);
    if (this.#lines.length >= 20_000) await this.flush();
  }
  async flush() {
    if (this.#lines.length === 0) return;
    const data = this.#encoder.encode(this.#lines.join(""));
    this.#lines = [];
    this.bytes += data.byteLength;
    let written = 0;
    while (written < data.byteLength) written += await this.#file.write(data.subarray(written));
  }
  async close() {
    await this.flush();
    this.#file.close();
  }
}

/** Writes the base and changed files of a table into `dir`. */
export async function generateTable(
  dir: string,
  table: BenchTable,
  seed: number,
  sizes: Sizes,
): Promise<TableFiles> {
  const b = builders(seed, sizes)[table]();
  const base = `${dir}/${table}.tsv`;
  const changedPath = `${dir}/${table}-changed.tsv`;
  const w1 = new TsvWriter(await Deno.open(base, { write: true, create: true, truncate: true }));
  const w2 = new TsvWriter(
    await Deno.open(changedPath, { write: true, create: true, truncate: true }),
  );
  const expected: Expected = { rows: 0, changedRows: 0, changed: 0, missing: 0 };
  for (let i = 0; i < b.count; i++) {
    const row = b.row(i);
    const line = row.join("\t") + "\n";
    await w1.add(line);
    expected.rows++;
    const f = fate(seed, table, i);
    if (f === 2) {
      expected.missing++;
      continue;
    }
    expected.changedRows++;
    if (f === 1) {
      const before = line;
      b.mutate(i, row, new Rng(hash32(seed, SALT[table] + 200, i)));
      const after = row.join("\t") + "\n";
      if (after !== before) expected.changed++;
      await w2.add(after);
    } else {
      await w2.add(line);
    }
  }
  await w1.close();
  await w2.close();
  return { base, changed: changedPath, bytes: w1.bytes, expected };
}
