import assert from "node:assert/strict";
import {
  catalogFor,
  coreCatalog,
  findField,
  IMPORT_TABLES,
  nearestFields,
  normaliseFieldName,
  storageType,
} from "../../src/sis/catalog.ts";
import { tempDatabase } from "../support/db.ts";

Deno.test("every import table has a catalog with its match key", () => {
  const keys: Record<string, string[]> = {
    students: ["Student_Number"],
    teachers: ["TeacherNumber", "SchoolID"],
    courses: ["Course_Number"],
    sections: ["SchoolID", "TermID", "Course_Number", "Section_Number"],
    schedules: ["Student_Number", "SchoolID", "TermID", "Course_Number", "Section_Number"],
  };
  for (const t of IMPORT_TABLES) {
    const c = coreCatalog(t);
    assert.ok(c.fields.length >= 5, `${t} has too few fields`);
    if (keys[t]) assert.deepEqual(c.key, keys[t]);
  }
  assert.deepEqual(coreCatalog("attendance", "daily").key, [
    "Student_Number",
    "SchoolID",
    "Att_Date",
  ]);
  assert.deepEqual(coreCatalog("attendance", "meeting").key, [
    "Student_Number",
    "SchoolID",
    "Att_Date",
    "Course_Number",
    "Section_Number",
  ]);
});

Deno.test("the students catalog lists the fields the SIS has", () => {
  const names = coreCatalog("students").fields.map((f) => f.name);
  for (
    const n of [
      "Student_Number",
      "SchoolID",
      "First_Name",
      "Middle_Name",
      "Last_Name",
      "Grade_Level",
      "DOB",
      "Gender",
      "EntryDate",
      "ExitDate",
      "EntryCode",
      "ExitCode",
      "Enroll_Status",
      "Home_Room",
      "Street",
      "City",
      "State",
      "Zip",
      "Mailing_Street",
      "Mailing_City",
      "Mailing_State",
      "Mailing_Zip",
      "Home_Phone",
      "Ethnicity",
      "State_StudentNumber",
      "Lunch_ID",
      "Network_ID",
      "Student_Web_ID",
      "Track",
      "Team",
      "Graduation_Year",
      "District_Entry_Date",
      "School_Entry_Date",
      "Mother",
      "Father",
      "Guardian",
    ]
  ) assert.ok(names.includes(n), `missing ${n}`);
});

Deno.test("required-to-create fields, lengths and personal flags follow the SIS", () => {
  const req = (t: "students" | "teachers" | "courses" | "sections" | "schedules") =>
    coreCatalog(t).fields.filter((f) => f.requiredToCreate).map((f) => f.name).sort();
  assert.deepEqual(req("students"), [
    "EntryDate",
    "First_Name",
    "Grade_Level",
    "Last_Name",
    "Student_Number",
  ]);
  assert.deepEqual(req("teachers"), ["First_Name", "Last_Name", "TeacherNumber"]);
  assert.deepEqual(req("courses"), ["Course_Name", "Course_Number"]);
  assert.deepEqual(req("sections"), ["Course_Number", "Expression", "Section_Number", "TermID"]);
  assert.deepEqual(req("schedules"), [
    "Course_Number",
    "DateEnrolled",
    "Section_Number",
    "Student_Number",
    "TermID",
  ]);
  const teacher = coreCatalog("teachers");
  const len = (n: string) => teacher.fields.find((f) => f.name === n)?.maxLength;
  assert.equal(len("TeacherNumber"), 20);
  assert.equal(len("LoginID"), 20);
  assert.equal(len("TeacherLoginID"), 20);
  assert.equal(len("Email_Addr"), 50);
  assert.equal(len("Title"), 40);
  assert.equal(
    coreCatalog("courses").fields.find((f) => f.name === "Course_Number")?.maxLength,
    20,
  );
  assert.equal(
    coreCatalog("sections").fields.find((f) => f.name === "Section_Number")?.maxLength,
    10,
  );
  assert.equal(
    coreCatalog("attendance", "meeting").fields.find((f) => f.name === "Period")?.maxLength,
    3,
  );
  const students = coreCatalog("students");
  for (const n of ["First_Name", "Last_Name", "DOB", "Street", "Home_Phone", "Network_ID"]) {
    assert.ok(students.fields.find((f) => f.name === n)?.personal, `${n} should be personal`);
  }
  assert.equal(students.fields.find((f) => f.name === "Student_Number")?.personal, false);
  assert.equal(students.fields.find((f) => f.name === "Student_Number")?.key, "integer");
  assert.equal(teacher.fields.find((f) => f.name === "TeacherNumber")?.key, "exact");
});

Deno.test("field names are found case-insensitively, with a table prefix or as extension fields", () => {
  const c = catalogFor("students", {
    extensions: [{
      table: "students",
      name: "U_StudentsUserFields",
      fields: [{ name: "email", type: "text" }],
    }],
  });
  assert.equal(findField(c, "student_number")?.name, "Student_Number");
  assert.equal(findField(c, "Students.Last_Name")?.name, "Last_Name");
  assert.equal(findField(c, "[U_StudentsUserFields].[email]")?.name, "U_StudentsUserFields.email");
  assert.equal(findField(c, "u_studentsuserfields.EMAIL")?.name, "U_StudentsUserFields.email");
  assert.equal(findField(c, "Favourite_Colour"), undefined);
  assert.equal(normaliseFieldName(" [A].[b] "), "a.b");
});

Deno.test("an unknown field name gets the nearest catalog names", () => {
  const c = coreCatalog("students");
  assert.ok(nearestFields(c, "Frist_Name").includes("First_Name"));
  assert.ok(nearestFields(c, "Studentnumber").includes("Student_Number"));
});

Deno.test("the fields command prints the catalog with extension fields as JSON", async () => {
  await using t = await tempDatabase();
  await Deno.writeTextFile(
    `${t.dir}/setup.json`,
    JSON.stringify({
      extensions: [{
        table: "students",
        name: "U_StudentsUserFields",
        fields: [{ name: "email", type: "text", maxLength: 100 }],
      }],
    }),
  );
  const env = { AUTOCOMM_DATA_DIR: t.dir };
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--frozen", "src/cli.ts", ...args],
      env,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  assert.equal((await run(["setup", "load", `${t.dir}/setup.json`])).code, 0);
  const out = await run(["fields", "students", "--json"]);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const catalog = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(catalog.table, "students");
  assert.deepEqual(catalog.key, ["Student_Number"]);
  const email = catalog.fields.find((f: { name: string }) =>
    f.name === "U_StudentsUserFields.email"
  );
  assert.equal(email.maxLength, 100);
  const first = catalog.fields.find((f: { name: string }) => f.name === "First_Name");
  assert.deepEqual(
    {
      type: first.type,
      maxLength: first.maxLength,
      requiredToCreate: first.requiredToCreate,
      personal: first.personal,
    },
    { type: "text", maxLength: 50, requiredToCreate: true, personal: true },
  );
  assert.ok(first.description.length > 0);
});

Deno.test("each field's values are stored as the SQLite type its type calls for", () => {
  const types = (t: Parameters<typeof coreCatalog>[0], mode?: "daily" | "meeting") =>
    Object.fromEntries(coreCatalog(t, mode).fields.map((f) => [f.name, storageType(f)]));
  const students = types("students");
  assert.equal(students["Student_Number"], "INTEGER");
  assert.equal(students["Last_Name"], "TEXT");
  assert.equal(students["DOB"], "TEXT");
  const attendance = types("attendance", "daily");
  assert.equal(attendance["Attendance_CodeID"], "INTEGER");
  assert.equal(attendance["Att_Code"], "TEXT");
  assert.equal(types("courses")["Credit_Hours"], "REAL");
});
