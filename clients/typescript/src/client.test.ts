// Run-time checks of the client against a stub fetch (no server): the request it builds, the
// envelope it unwraps, the error it throws. scripts/typescript-client compiles this to
// JavaScript and runs it with node; it exits non-zero on the first failure.

import { all, createClient, GatehouseError } from "./client.js";

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
}

function stub(status: number, answer: unknown, seen: Seen[], headers: Record<string, string> = {}): typeof fetch {
  return async (input, init) => {
    seen.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : undefined,
    });
    const text = typeof answer === "string" ? answer : JSON.stringify(answer);
    return new Response(text, { status, headers: { "Content-Type": "application/json", "X-Request-ID": "RID", ...headers } });
  };
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`client.test: ${what}`);
}

const meta = { version: 2, timestamp: "2026-12-01T10:00:00Z", request_id: "RID" };

async function main(): Promise<void> {
  let passed = 0;

  {
    const seen: Seen[] = [];
    const team = { id: "7", name: "Platform", description: "", created_at: meta.timestamp, updated_at: meta.timestamp };
    const gh = createClient({ baseUrl: "https://gh.test/", token: () => "tok", fetch: stub(200, { status: "success", data: team, meta }, seen, { ETag: '"e1"' }) });
    const res = await gh.patch("/api/v2/teams/{id}", { path: { id: "7/x" }, body: { name: "Platform" }, headers: { "If-Match": '"e0"' } });
    const req = seen[0];
    check(req !== undefined && req.url === "https://gh.test/api/v2/teams/7%2Fx" && req.method === "PATCH", `request ${JSON.stringify(req)}`);
    check(req?.headers.get("Authorization") === "Bearer tok" && req.headers.get("If-Match") === '"e0"', "headers");
    check(req?.headers.get("Content-Type") === "application/json" && req.body === '{"name":"Platform"}', "body");
    check(res.data.id === "7" && res.status === 200 && res.headers.get("ETag") === '"e1"' && res.meta.request_id === "RID", "answer");
    passed++;
  }

  {
    const seen: Seen[] = [];
    const gh = createClient({ baseUrl: "https://gh.test", fetch: stub(400, { status: "error", data: null, error: { code: "invalid", message: "invalid request: name: is required", fields: { name: "is required" } }, meta }, seen) });
    let err: unknown;
    try {
      await gh.post("/api/v2/teams", { body: { name: "" } });
    } catch (e) {
      err = e;
    }
    check(err instanceof GatehouseError && err.status === 400 && err.code === "invalid" && err.fields["name"] === "is required" && err.requestId === "RID", `error ${String(err)}`);
    check(seen[0]?.headers.get("Authorization") === null, "no token, no Authorization");
    passed++;
  }

  {
    const seen: Seen[] = [];
    const gh = createClient({ baseUrl: "https://gh.test", fetch: stub(502, "<html>bad gateway</html>", seen) });
    let err: unknown;
    try {
      await gh.get("/api/v2/me");
    } catch (e) {
      err = e;
    }
    check(err instanceof GatehouseError && err.status === 502 && err.code === "" && err.message.includes("bad gateway"), `no envelope: ${String(err)}`);
    passed++;
  }

  {
    const pages: Record<string, unknown> = {
      "": { status: "success", data: [{ id: "1" }, { id: "2" }], meta: { ...meta, limit: 2, next_cursor: "c2" } },
      c2: { status: "success", data: [{ id: "3" }], meta: { ...meta, limit: 2 } },
    };
    const seen: Seen[] = [];
    const fetchPage: typeof fetch = async (input, init) => stub(200, pages[new URL(String(input)).searchParams.get("cursor") ?? ""], seen)(input, init);
    const gh = createClient({ baseUrl: "https://gh.test", fetch: fetchPage });
    const ids: string[] = [];
    for await (const t of all((cursor) => gh.get("/api/v2/teams", { query: { limit: 2, cursor } }))) ids.push(t.id);
    check(ids.join(",") === "1,2,3" && seen.length === 2 && seen[0]?.url === "https://gh.test/api/v2/teams?limit=2", `pages ${ids} ${seen[0]?.url}`);
    passed++;
  }

  console.log(`client.test: ${passed} cases passed`);
}

main().catch((e: unknown) => {
  console.error(e);
  throw e;
});
