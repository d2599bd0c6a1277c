/**
 * A real libSQL server for tests (`sqld`): the start function lives in `bench/sqld.ts`,
 * where `deno task bench --remote` starts one too; and a forwarding server that counts
 * the requests sent to it.
 */
export * from "../../bench/sqld.ts";

/** What {@linkcode forwardingProxy} lets a test do with each request (its body as text). */
export interface ProxyHooks {
  /** Before forwarding: an answer returned here is given instead (the request is not forwarded). */
  before?: (text: string) => Promise<Response | undefined> | Response | undefined;
  /** After the server answered, before the answer is passed on. */
  after?: (text: string) => Promise<void> | void;
}

/**
 * An HTTP server on loopback between a client and `target` (a sqld): forwards every
 * request and its answer, calling `hooks` on the way.
 */
export function forwardingProxy(target: string, hooks: ProxyHooks) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const text = new TextDecoder().decode(body);
    const instead = await hooks.before?.(text);
    if (instead) return instead;
    const url = new URL(req.url);
    const res = await fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const answer = await res.arrayBuffer();
    await hooks.after?.(text);
    // fetch has decoded the body already.
    const headers = new Headers(res.headers);
    headers.delete("content-encoding");
    headers.delete("content-length");
    return new Response(answer, { status: res.status, headers });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/**
 * A {@linkcode forwardingProxy} that counts the requests, their bytes and the SQL
 * statements they carry (each `"stmt"` of the Hrana requests: in the JSON a key is the
 * only place those characters appear unescaped).
 */
export function countingProxy(target: string) {
  const counter = { requests: 0, bytes: 0, statements: 0 };
  const proxy = forwardingProxy(target, {
    before(text) {
      counter.requests++;
      counter.bytes += new TextEncoder().encode(text).length;
      counter.statements += text.split('"stmt":').length - 1;
      return undefined;
    },
  });
  return { ...proxy, counter };
}
