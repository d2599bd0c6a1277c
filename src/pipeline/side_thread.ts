/**
 * The staging thread (see `side_writer.ts`): a second `node:sqlite` connection, on a
 * thread of its own, that writes a run's staged rows into the run's stage file while
 * the import's own thread decodes, parses, maps and checks the next rows. The same
 * SQLite library as the import's connection (two SQLite libraries opening one file in one process can lose each other's locks). It writes only
 * the stage file; the SIS database it attaches is only read.
 *
 * Messages, handled in order, each answered once: `open` (the file, whose tables the
 * import's connection created; `ack`), `run` (statements with their arguments;
 * `ack`; the thread also takes each row's duplicate-key hash, `duplicates.ts`),
 * `finish` (commit and close; `finished`, with the lines that may repeat a key),
 * `abort` (roll back and close;
 * `aborted`). A failure is answered with `error` instead; the statements after it are
 * ignored (and acknowledged) until the next `open`.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DuplicateCandidates } from "./duplicates.ts";
import type { SideReply, SideRequest } from "./side_writer.ts";

declare const self: {
  onmessage: ((event: MessageEvent<SideRequest>) => void) | null;
  postMessage(message: SideReply): void;
};

let db: DatabaseSync | null = null;
let failed = false;
/** The duplicate-key hashes of the rows written (`duplicates.ts`), and a row's arguments. */
let candidates = new DuplicateCandidates([]);
let width = 1;
const statements = new Map<string, StatementSync>();

function close(): void {
  statements.clear();
  if (db?.isOpen) {
    if (db.isTransaction) db.exec("ROLLBACK");
    db.close();
  }
  db = null;
}

self.onmessage = ({ data }) => {
  try {
    switch (data.op) {
      case "open":
        close();
        failed = false;
        candidates = new DuplicateCandidates(data.staged.keys, data.staged.expectedRows);
        width = data.staged.width;
        db = new DatabaseSync(data.file, { timeout: data.busyTimeoutMs });
        // Scratch rows: no journal on disk and no sync; the file is deleted after the run.
        // The SIS database is attached for the statements that look up each row's
        // existing record; it is only read, in the one snapshot of this transaction.
        db.exec(
          `PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA cache_size = -2048;`,
        );
        db.prepare("ATTACH DATABASE ? AS sis").run(data.sis);
        db.exec("PRAGMA sis.cache_size = -4096; BEGIN");
        self.postMessage({ op: "ack" });
        return;
      case "run": {
        if (failed || !db) {
          self.postMessage({ op: "ack" });
          return;
        }
        for (const [sql, args] of data.statements) {
          let s = statements.get(sql);
          if (!s) {
            s = db.prepare(sql);
            statements.set(sql, s);
          }
          s.run(...args);
          for (let base = 0; base < args.length; base += width) candidates.add(args, base);
        }
        self.postMessage({ op: "ack" });
        return;
      }
      case "finish":
        if (!failed && db) db.exec("COMMIT");
        close();
        self.postMessage(
          failed ? { op: "aborted" } : { op: "finished", duplicates: candidates.found },
        );
        return;
      case "abort":
        close();
        self.postMessage({ op: "aborted" });
        return;
    }
  } catch (error) {
    failed = true;
    close();
    self.postMessage({
      op: "error",
      message: error instanceof Error ? error.message : String(error),
    });
  }
};
