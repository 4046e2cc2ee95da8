// Compile-time checks of the client's typing against the generated document (tsc --noEmit in
// scripts/test): each call below must type-check, and each @ts-expect-error line must not. Not
// shipped or run.

import { all, createClient, GatehouseError, type Schemas } from "./client.js";

export async function examples(accessToken: string): Promise<void> {
  const gh = createClient({ baseUrl: "https://auth.example.com", token: () => accessToken });

  // A body is required where the operation has one; the answer is the envelope's data, typed.
  const { data: team, headers } = await gh.post("/api/v2/teams", { body: { name: "Platform" } });
  const teamId: string = team.id; // v2: identifiers are strings
  const etag = headers.get("ETag") ?? "";

  // Path parameters are required, query parameters optional and typed.
  const members = await gh.get("/api/v2/teams/{id}/members", { path: { id: teamId }, query: { limit: 10 } });
  const first: Schemas["MemberResponse"] | undefined = members.data[0];
  void first;
  await gh.patch("/api/v2/teams/{id}", { path: { id: teamId }, body: { description: "renamed" }, headers: { "If-Match": etag } });

  // Calls without parameters take no options.
  const me = await gh.get("/api/v2/me");
  const email: string = me.data.email;
  void email;

  // Every page of a list.
  for await (const t of all((cursor) => gh.get("/api/v2/teams", { query: { cursor } }))) {
    void t.name;
  }

  // Errors carry the envelope's code and fields.
  try {
    await gh.post("/api/v2/teams", { body: { name: "" } });
  } catch (e) {
    if (e instanceof GatehouseError && e.code === "invalid") void e.fields["name"];
  }

  // @ts-expect-error: no such path
  await gh.get("/api/v2/nowhere");
  // @ts-expect-error: the path parameter is missing
  await gh.get("/api/v2/teams/{id}", {});
  // @ts-expect-error: a team's name is a string
  await gh.post("/api/v2/teams", { body: { name: 42 } });
  // @ts-expect-error: GET /api/v2/teams takes no body
  await gh.get("/api/v2/teams", { body: {} });
}
