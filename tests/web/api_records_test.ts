import assert from "node:assert/strict";
import { connections } from "../../src/db/schema/autocomm.ts";
import { startTestService, studentsRecord, type TestService } from "../support/web.ts";

interface Problem {
  field: string;
  message: string;
}

async function problemsOf(res: Response): Promise<Problem[]> {
  assert.equal(res.status, 400);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const body = await res.json();
  assert.equal(body.error.code, "invalid");
  assert.equal(typeof body.error.message, "string");
  return body.error.problems;
}

async function addConnection(
  s: TestService,
  name: string,
  allowDownload: boolean,
): Promise<number> {
  const now = new Date().toISOString();
  const [row] = await s.database.db.insert(connections).values({
    name,
    host: "sftp.example.org",
    authMethod: "password",
    username: "sis",
    allowDownload,
    createdAt: now,
    updatedAt: now,
  }).returning({ id: connections.id });
  return row!.id;
}

Deno.test("records are created, listed in sort order then by name, read, replaced, patched and deleted", async () => {
  const s = await startTestService();
  try {
    const make = async (over: Record<string, unknown>) => {
      const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
      assert.equal(res.status, 201);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      const body = await res.json();
      assert.equal(res.headers.get("location"), `/api/v1/records/${body.records[0].id}`);
      return body.records[0];
    };
    const zeta = await make({ name: "zeta", sortOrder: null });
    const alpha = await make({ name: "Alpha", sortOrder: null });
    const second = await make({ name: "Second", sortOrder: 2 });
    const first = await make({ name: "First", sortOrder: 1, days: "fmw" });
    assert.equal(first.days, "FMW");
    assert.equal(first.table, "students");
    assert.deepEqual(first.fields, studentsRecord().fields);
    await make({ name: "Elsewhere", schoolId: 200 });

    let res = await s.api("/api/v1/records?school=100");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const listed = (await res.json()).records.map((r: { name: string }) => r.name);
    assert.deepEqual(listed, ["First", "Second", "Alpha", "zeta"]);

    res = await s.api("/api/v1/records");
    assert.equal((await res.json()).records.length, 5);

    res = await s.api(`/api/v1/records/${second.id}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await res.json()).name, "Second");

    res = await s.api(`/api/v1/records/${second.id}`, {
      method: "PUT",
      json: studentsRecord({
        name: "Second renamed",
        schoolId: 200,
        hour: 23,
        minute: 59,
        emailTo: "a@example.org;b@example.org",
      }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    let body = await res.json();
    assert.equal(body.name, "Second renamed");
    assert.equal(body.schoolId, 100, "the school of a record stays");
    assert.equal(body.hour, 23);
    assert.equal(body.emailTo, "a@example.org, b@example.org");
    assert.equal(body.sortOrder, null, "PUT replaces: a missing sort order is none");

    res = await s.api(`/api/v1/records/${zeta.id}`, {
      method: "PATCH",
      json: { executionOff: true, sortOrder: 9 },
    });
    assert.equal(res.status, 200);
    body = await res.json();
    assert.equal(body.executionOff, true);
    assert.equal(body.sortOrder, 9);
    assert.equal(body.name, "zeta", "PATCH keeps what it does not send");

    res = await s.api(`/api/v1/records/${alpha.id}`, { method: "PATCH", json: { name: "FIRST" } });
    assert.deepEqual(await problemsOf(res), [{
      field: "name",
      message: 'This school already has a record named "FIRST"',
    }]);

    res = await s.api(`/api/v1/records/${alpha.id}`, { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    res = await s.api(`/api/v1/records/${alpha.id}`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await res.json()).error.code, "not_found");
    res = await s.api(`/api/v1/records/${alpha.id}`, { method: "DELETE" });
    assert.equal(res.status, 404);
    res = await s.api(`/api/v1/records/${alpha.id}`, { method: "PUT", json: studentsRecord() });
    assert.equal(res.status, 404);
  } finally {
    await s.close();
  }
});

Deno.test("every record rule answers 400 with its problem on its field", async (t) => {
  const s = await startTestService();
  try {
    await s.api("/api/v1/records", { method: "POST", json: studentsRecord({ name: "Taken" }) });
    const noDownload = await addConnection(s, "Upload only", false);
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["a record needs a school", { schoolId: undefined }, "schoolId", /Choose the school/],
      ["the school must exist", { schoolId: 999 }, "schoolId", /There is no school 999/],
      ["a record needs a name", { name: "  " }, "name", /Enter a name/],
      ["a name is at most 100 characters", { name: "x".repeat(101) }, "name", /longer than 100/],
      [
        "a name is unique in its school, whatever its case",
        { name: "TAKEN" },
        "name",
        /already has a record named/,
      ],
      ["the table is one of the six", { table: "grades" }, "table", /Choose the table to import/],
      [
        "District Office records are Students or Teachers only",
        { schoolId: 0, table: "courses", fields: ["Course_Number", "Course_Name"] },
        "table",
        /District Office/,
      ],
      [
        "attendance modes follow the school's recording method (daily school, meeting asked)",
        {
          table: "attendance",
          attendanceMode: "meeting",
          fields: ["Student_Number", "Att_Date", "Att_Code", "Course_Number", "Section_Number"],
        },
        "attendanceMode",
        /records attendance by daily only/,
      ],
      [
        "attendance modes follow the school's recording method (meeting school, daily asked)",
        {
          schoolId: 300,
          table: "attendance",
          attendanceMode: "daily",
          fields: ["Student_Number", "Att_Date", "Att_Code"],
        },
        "attendanceMode",
        /by meeting only/,
      ],
      [
        "a school recording both must say which mode",
        { schoolId: 200, table: "attendance", fields: ["Student_Number", "Att_Date", "Att_Code"] },
        "attendanceMode",
        /Choose daily or meeting/,
      ],
      ["the hour is 0 to 23", { hour: 24 }, "hour", /0 to 23/],
      ["the hour is a whole number", { hour: "two" }, "hour", /0 to 23/],
      ["the minute is 0 to 59", { minute: -1 }, "minute", /0 to 59/],
      ["days are letters of MTWHFSU", { days: "MTX" }, "days", /MTWHFSU/],
      ["a day letter appears once", { days: "MTM" }, "days", /more than once/],
      ["Get Input From is local or managed", { source: "ftp" }, "source", /local or managed/],
      [
        "a managed source needs a connection",
        { source: "managed" },
        "connectionId",
        /Choose a managed connection/,
      ],
      [
        "a managed connection must allow download",
        { source: "managed", connectionId: noDownload },
        "connectionId",
        /does not allow download/,
      ],
      ["a path is required", { path: "" }, "path", /Enter the path/],
      ["absolute paths are refused", { path: "/etc/passwd" }, "path", /Absolute paths/],
      ["drive letters are refused", { path: "C:\\data\\students.txt" }, "path", /Drive letters/],
      [".. segments are refused", { path: "in\\..\\..\\secret.txt" }, "path", /\.\./],
      ["NUL bytes are refused", { path: "a\u0000b.txt" }, "path", /NUL/],
      ["only {school} may be in braces", { path: "{district}/a.txt" }, "path", /Only \{school\}/],
      [
        "the field delimiter is tab or comma",
        { fieldDelimiter: "pipe" },
        "fieldDelimiter",
        /tab or comma/,
      ],
      [
        "the record delimiter is CRLF, CR or LF",
        { recordDelimiter: "NEL" },
        "recordDelimiter",
        /CRLF, CR or LF/,
      ],
      [
        "the character set is one of four",
        { charset: "utf-16" },
        "charset",
        /Character Set is one of/,
      ],
      ["the sort order is a whole number", { sortOrder: "first" }, "sortOrder", /whole number/],
      [
        "every e-mail address is checked",
        { emailTo: "ok@example.org, not-an-address" },
        "emailTo",
        /Not an e-mail address: "not-an-address"/,
      ],
      [
        "unknown fields are refused with the nearest names",
        { fields: ["Student_Number", "Frist_Name", "Last_Name", "Grade_Level", "EntryDate"] },
        "fields",
        /Unknown field "Frist_Name".*did you mean First_Name/,
      ],
      [
        "a field appears once",
        { fields: ["Student_Number", "Last_Name", "last_name"] },
        "fields",
        /Last_Name appears more than once/,
      ],
      [
        "the match key fields must be present",
        { fields: ["First_Name", "Last_Name"] },
        "fields",
        /The match key needs Student_Number/,
      ],
      ["at least one field is mapped", { fields: [] }, "fields", /Enter at least one field/],
      [
        "attendance needs a code field",
        { table: "attendance", fields: ["Student_Number", "Att_Date"] },
        "fields",
        /Attendance_CodeID or Att_Code/,
      ],
      [
        "the removal limit is 0 to 100",
        { removalLimitPercent: 101 },
        "removalLimitPercent",
        /0 to 100/,
      ],
      [
        "the minimum file age is 0 to 86400 seconds",
        { minFileAgeSeconds: 90000 },
        "minFileAgeSeconds",
        /0 to 86400/,
      ],
    ];
    for (const [name, overrides, field, message] of cases) {
      await t.step(name, async () => {
        const input = studentsRecord(overrides);
        for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete input[k];
        const res = await s.api("/api/v1/records", { method: "POST", json: input });
        const problems = await problemsOf(res);
        const mine = problems.filter((p) => p.field === field);
        assert.ok(
          mine.some((p) => message.test(p.message)),
          `expected a ${field} problem like ${message}, got ${JSON.stringify(problems)}`,
        );
      });
    }
    await t.step("every problem of an input is reported at once", async () => {
      const res = await s.api("/api/v1/records", {
        method: "POST",
        json: studentsRecord({ name: "", days: "XX", path: "/abs", emailTo: "nope" }),
      });
      const fields = (await problemsOf(res)).map((p) => p.field).sort();
      assert.deepEqual(fields, ["days", "emailTo", "name", "path"]);
    });
    await t.step("nothing was created by refused inputs", async () => {
      const res = await s.api("/api/v1/records");
      assert.deepEqual((await res.json()).records.map((r: { name: string }) => r.name), ["Taken"]);
    });
  } finally {
    await s.close();
  }
});

Deno.test("inputs that pass the rules are stored as the rules tidy them", async (t) => {
  const s = await startTestService();
  try {
    const download = await addConnection(s, "State SFTP", true);
    const post = async (over: Record<string, unknown>) => {
      const res = await s.api("/api/v1/records", { method: "POST", json: studentsRecord(over) });
      assert.equal(res.status, 201, JSON.stringify(await res.clone().json()));
      return (await res.json()).records[0];
    };
    await t.step("a managed connection with download enabled is accepted", async () => {
      const r = await post({ name: "managed", source: "managed", connectionId: download });
      assert.equal(r.source, "managed");
      assert.equal(r.connectionId, download);
    });
    await t.step(
      "a school recording by meeting gets meeting attendance without asking",
      async () => {
        const r = await post({
          name: "meeting att",
          schoolId: 300,
          table: "attendance",
          fields: ["Student_Number", "Att_Date", "Att_Code", "Course_Number", "Section_Number"],
        });
        assert.equal(r.attendanceMode, "meeting");
      },
    );
    await t.step("extension fields are accepted in either spelling", async () => {
      const r = await post({
        name: "ext",
        fields: [
          "Student_Number",
          "[U_StudentsUserFields].[email]",
          "u_studentsuserfields.homeroom_number",
        ],
      });
      assert.deepEqual(r.fields, [
        "Student_Number",
        "U_StudentsUserFields.email",
        "U_StudentsUserFields.homeroom_number",
      ]);
    });
    await t.step(
      "District Office may hold Teachers records, and SchoolID may come from the record",
      async () => {
        const r = await post({
          name: "district teachers",
          schoolId: 0,
          table: "teachers",
          fields: ["TeacherNumber", "First_Name", "Last_Name"],
        });
        assert.equal(r.schoolId, 0);
      },
    );
    await t.step("{school} and backslashes are fine in a path", async () => {
      const r = await post({ name: "per school", path: "in\\{school}\\students.txt" });
      assert.equal(r.path, "in\\{school}\\students.txt");
    });
  } finally {
    await s.close();
  }
});

Deno.test("duplicating to all schools creates one record per school, or none when a copy breaks a rule", async () => {
  const s = await startTestService();
  try {
    // Washington High already has a record of that name: no copy is made anywhere.
    await s.api("/api/v1/records", {
      method: "POST",
      json: studentsRecord({ schoolId: 200, name: "Nightly" }),
    });
    let res = await s.api("/api/v1/records", {
      method: "POST",
      json: { ...studentsRecord({ name: "Nightly" }), duplicateToAllSchools: true },
    });
    const problems = await problemsOf(res);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.field, "name");
    assert.match(
      problems[0]!.message,
      /In Washington High \(200\).*already has a record named "Nightly"/,
    );
    res = await s.api("/api/v1/records?school=100");
    assert.deepEqual((await res.json()).records, []);

    res = await s.api("/api/v1/records", {
      method: "POST",
      json: {
        ...studentsRecord({ name: "Everywhere", path: "{school}/students.txt" }),
        duplicateToAllSchools: true,
      },
    });
    assert.equal(res.status, 201);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const created = (await res.json()).records as { schoolId: number; name: string }[];
    assert.deepEqual(created.map((r) => r.schoolId).sort(), [100, 200, 300]);
    assert.ok(created.every((r) => r.name === "Everywhere"));
  } finally {
    await s.close();
  }
});

Deno.test("malformed requests answer 400 with a JSON error, unknown ids 404", async () => {
  const s = await startTestService();
  try {
    let res = await s.api("/api/v1/records", {
      method: "POST",
      headers: { "content-type": "application/json" },
      json: undefined,
    });
    assert.equal(res.status, 400);
    res = await s.app.request("/api/v1/records", {
      method: "POST",
      headers: {
        authorization: "Bearer test-api-token-0123456789",
        "content-type": "application/json",
      },
      body: "{not json",
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await res.json()).error.code, "bad_request");

    res = await s.api("/api/v1/records", { method: "POST", json: [1, 2] });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "invalid");

    res = await s.api("/api/v1/records/abc");
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error.code, "invalid");
    assert.equal(body.error.problems[0].field, "id");

    res = await s.api("/api/v1/records?school=x");
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.problems[0].field, "school");

    res = await s.api("/api/v1/nothing-here");
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await res.json()).error.code, "not_found");
  } finally {
    await s.close();
  }
});
