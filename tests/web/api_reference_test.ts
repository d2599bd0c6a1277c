import assert from "node:assert/strict";
import { schoolYear, startTestService, studentsRecord, tsv } from "../support/web.ts";

Deno.test("the field catalog lists a table's fields with descriptions, extension fields and the attendance mode", async () => {
  const s = await startTestService();
  try {
    let res = await s.api("/api/v1/catalog/students");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    let body = await res.json();
    assert.equal(body.label, "Students");
    assert.deepEqual(body.key, ["Student_Number"]);
    const names = body.fields.map((f: { name: string }) => f.name);
    for (
      const n of [
        "Student_Number",
        "First_Name",
        "EntryDate",
        "Enroll_Status",
        "U_StudentsUserFields.homeroom_number",
      ]
    ) {
      assert.ok(names.includes(n), n);
    }
    const dob = body.fields.find((f: { name: string }) => f.name === "DOB");
    assert.deepEqual({ type: dob.type, personal: dob.personal, key: dob.key }, {
      type: "date",
      personal: true,
      key: false,
    });
    const ext = body.fields.find((f: { name: string }) =>
      f.name === "U_StudentsUserFields.homeroom_number"
    );
    assert.equal(ext.extension, true);
    assert.equal(ext.description, "Homeroom number");

    res = await s.api("/api/v1/catalog/attendance?mode=meeting");
    body = await res.json();
    assert.equal(body.mode, "meeting");
    assert.ok(body.fields.some((f: { name: string }) => f.name === "Section_Number"));
    res = await s.api("/api/v1/catalog/attendance");
    body = await res.json();
    assert.equal(body.mode, "daily");
    assert.ok(!body.fields.some((f: { name: string }) => f.name === "Section_Number"));

    res = await s.api("/api/v1/catalog/grades");
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.problems[0].field, "table");
    res = await s.api("/api/v1/catalog/students?mode=weekly");
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.problems[0].field, "mode");
  } finally {
    await s.close();
  }
});

Deno.test("school setup is read back and loaded, and a bad document answers 400 with its JSON path", async () => {
  const s = await startTestService();
  try {
    let res = await s.api("/api/v1/setup");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const setup = await res.json();
    assert.deepEqual(setup.schools.map((x: { schoolNumber: number }) => x.schoolNumber), [
      0,
      100,
      200,
      300,
    ]);
    assert.equal(setup.extensions[0].name, "U_StudentsUserFields");

    res = await s.api("/api/v1/setup", {
      method: "POST",
      json: { schools: [{ schoolNumber: 400, name: "Adams High", attendanceMethod: "both" }] },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await res.json(), { schools: 1, extensions: 0 });
    res = await s.api("/api/v1/setup");
    assert.ok((await res.json()).schools.some((x: { name: string }) => x.name === "Adams High"));

    res = await s.api("/api/v1/setup", {
      method: "POST",
      json: {
        schools: [{
          schoolNumber: 500,
          name: "Bad",
          terms: [{ id: 1, abbreviation: "Y", firstDay: "2025-13-01", lastDay: "2026-01-01" }],
        }],
      },
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await res.json();
    assert.equal(body.error.code, "invalid_setup");
    assert.equal(body.error.path, "$.schools[0].terms[0].firstDay");
    assert.equal(body.error.problems[0].field, "$.schools[0].terms[0].firstDay");
    res = await s.api("/api/v1/setup");
    assert.ok(
      !(await res.json()).schools.some((x: { schoolNumber: number }) => x.schoolNumber === 500),
      "nothing was loaded",
    );

    res = await s.api("/api/v1/setup", { method: "POST", json: { schools: [], colours: [] } });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.path, "$");
  } finally {
    await s.close();
  }
});

Deno.test("SIS tables are read in pages and filtered by school", async () => {
  const s = await startTestService();
  try {
    const entry = `08/20/${schoolYear()}`;
    for (const school of [100, 200]) {
      const res = await s.api("/api/v1/records", {
        method: "POST",
        json: studentsRecord({
          schoolId: school,
          path: `s${school}.txt`,
          fields: [...studentsRecord().fields as string[], "U_StudentsUserFields.email"],
        }),
      });
      assert.equal(res.status, 201);
      const id = (await res.json()).records[0].id;
      const base = school * 10;
      await s.writeImport(
        `s${school}.txt`,
        tsv([1, 2, 3].map((n) => [base + n, "N", "M", 3, entry, `p${n}@example.org`])),
      );
      await s.api(`/api/v1/records/${id}/run`, { method: "POST" });
    }
    await s.queue.idle();

    let res = await s.api("/api/v1/sis/students?limit=2&offset=1");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    let body = await res.json();
    assert.equal(body.total, 6);
    assert.deepEqual(body.rows.map((r: { Student_Number: number }) => r.Student_Number), [
      1002,
      1003,
    ]);
    assert.equal(body.rows[0]["U_StudentsUserFields.email"], "p2@example.org");

    res = await s.api("/api/v1/sis/students?school=200");
    body = await res.json();
    assert.equal(body.total, 3);
    assert.ok(body.rows.every((r: { SchoolID: number }) => r.SchoolID === 200));

    res = await s.api("/api/v1/sis/teachers");
    body = await res.json();
    assert.deepEqual([body.total, body.rows], [0, []]);

    res = await s.api("/api/v1/sis/students?limit=5000");
    assert.equal(res.status, 400);
    res = await s.api("/api/v1/sis/nothing");
    assert.equal(res.status, 400);
  } finally {
    await s.close();
  }
});

Deno.test("the OpenAPI document describes every API route with its role", async () => {
  const s = await startTestService();
  try {
    const res = await s.app.request("/api/v1/openapi.json");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.servers, [{ url: "/api/v1" }]);
    assert.ok(doc.components.securitySchemes.bearerAuth);
    const operations: string[] = [];
    for (
      const [path, item] of Object.entries(
        doc.paths as Record<
          string,
          Record<string, { "x-required-role": string; responses: Record<string, unknown> }>
        >,
      )
    ) {
      for (const [method, op] of Object.entries(item)) {
        operations.push(`${method.toUpperCase()} ${path} ${op["x-required-role"]}`);
        assert.ok(
          op.responses["401"] && op.responses["403"],
          `${method} ${path} documents 401 and 403`,
        );
      }
    }
    assert.deepEqual(operations.sort(), [
      "DELETE /connections/{id} admin",
      "DELETE /records/{id} editor",
      "GET /catalog/{table} viewer",
      "GET /changes viewer",
      "GET /connections admin",
      "GET /connections/{id} admin",
      "GET /records viewer",
      "GET /records/{id} viewer",
      "GET /runs viewer",
      "GET /runs/summary viewer",
      "GET /runs/{id} viewer",
      "GET /runs/{id}/changes viewer",
      "GET /runs/{id}/errors viewer",
      "GET /runs/{id}/progress viewer",
      "GET /runs/{id}/rejected.csv viewer",
      "GET /setup viewer",
      "GET /sis/{table} viewer",
      "PATCH /connections/{id} admin",
      "PATCH /records/{id} editor",
      "POST /connections admin",
      "POST /connections/{id}/test admin",
      "POST /records editor",
      "POST /records/{id}/preview runner",
      "POST /records/{id}/run runner",
      "POST /runs/{id}/approve editor",
      "POST /runs/{id}/discard editor",
      "POST /setup admin",
      "PUT /records/{id} editor",
    ]);
    assert.ok(doc.components.schemas.RecordInput.properties.attendanceMode);
  } finally {
    await s.close();
  }
});
