/** AutoComm Setup: the school context's records, in sort order then by name. */
import type { StoredRecord } from "../../records/store.ts";
import { Layout } from "./layout.tsx";

/** What the list page shows. */
export interface SetupListProps {
  timeZone: string;
  school: { schoolNumber: number; name: string };
  records: StoredRecord[];
}

const TABLE_LABELS: Record<string, string> = {
  students: "Students",
  teachers: "Teachers",
  courses: "Courses",
  sections: "Sections",
  schedules: "Student schedules",
  attendance: "Attendance",
};

const pad = (n: number) => String(n).padStart(2, "0");

export function SetupList(props: SetupListProps) {
  return (
    <Layout title="AutoComm Setup" timeZone={props.timeZone}>
      <h1>AutoComm Setup — {props.school.name}</h1>
      {props.records.length === 0
        ? <p class="empty">No AutoComm records in this school yet.</p>
        : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Table</th>
                <th scope="col">When ({props.timeZone})</th>
                <th scope="col">Days</th>
                <th scope="col">Execution</th>
              </tr>
            </thead>
            <tbody>
              {props.records.map((r) => (
                <tr>
                  <td>{r.name}</td>
                  <td>
                    {TABLE_LABELS[r.table] ?? r.table}
                    {r.attendanceMode ? ` (${r.attendanceMode})` : ""}
                  </td>
                  <td>{pad(r.hour)}:{pad(r.minute)}</td>
                  <td>{r.days || <span class="muted">none</span>}</td>
                  <td>{r.executionOff ? "Off" : "On"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </Layout>
  );
}
