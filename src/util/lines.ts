/**
 * The lines of a byte stream (UTF-8), as its writer ends them. A line ends at "\n";
 * a "\r" just before it is dropped, so CRLF text reads the same. Text after the last
 * "\n" is no line: a writer that stopped mid-line (killed while writing) left nothing
 * whole to read. Chunks may split a line, a CRLF or a character anywhere.
 */
export async function* streamLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let start = 0;
    let nl: number;
    while ((nl = buffered.indexOf("\n", start)) >= 0) {
      const end = nl > start && buffered.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield buffered.slice(start, end);
      start = nl + 1;
    }
    buffered = buffered.slice(start);
  }
}
