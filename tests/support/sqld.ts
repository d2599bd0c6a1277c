/**
 * A real libSQL server for tests (`sqld`): the start function lives in `bench/sqld.ts`,
 * where `deno task bench --remote` starts one too; and a forwarding server that counts
 * the requests sent to it.
 */
export * from "../../bench/sqld.ts";

/**
 * An HTTP server on loopback that forwards every request to `target` and counts them,
 * their bytes and the SQL statements they carry (each `"stmt"` of the Hrana requests: in
 * the JSON a key is the only place those characters appear unescaped).
 */
export function countingProxy(target: string) {
  const counter = { requests: 0, bytes: 0, statements: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    counter.requests++;
    const body = new Uint8Array(await req.arrayBuffer());
    counter.bytes += body.length;
    counter.statements += new TextDecoder().decode(body).split('"stmt":').length - 1;
    const url = new URL(req.url);
    const res = await fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      ...(body.length > 0 ? { body } : {}),
    });
    // fetch has decoded the body already.
    const headers = new Headers(res.headers);
    headers.delete("content-encoding");
    headers.delete("content-length");
    return new Response(await res.arrayBuffer(), { status: res.status, headers });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, counter, close: () => server.shutdown() };
}
