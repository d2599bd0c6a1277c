/**
 * How fetching a file can fail besides a missing file or an unsafe path — kept apart
 * from the SFTP source so that the run can tell them without loading `ssh2`.
 */

/** The run cannot fetch its file: the message says why, for the run's report. */
export class FetchFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FetchFailure";
  }
}

/** The file changed while it was downloaded; the run must not apply what it read. */
export class SourceChanged extends Error {
  constructor(name: string) {
    super(
      `${name} changed while it was downloaded (its size or time is not what it was at the start); nothing of it was applied`,
    );
    this.name = "SourceChanged";
  }
}
