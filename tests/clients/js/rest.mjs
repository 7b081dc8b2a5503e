// ArcGIS REST JS (@esri/arcgis-rest-request, from npm) against a live `mockjobs serve`.
//
//   node rest.mjs '{"scenario": "job", "rest": "http://127.0.0.1:PORT/arcgis/rest", ...}'
//
// Runs one scenario and prints one JSON object on stdout (what the client saw); pytest
// (tests/clients/test_rest_js.py) starts the server, runs this and asserts on the JSON and on
// the server's request journal. Everything the client does goes through the library; plain
// fetch() is used only for the mock's own control API (/__mock), as a test suite would.
import {
  ArcGISIdentityManager,
  ArcGISAuthError,
  ArcGISRequestError,
  fetchToken,
  request,
} from "@esri/arcgis-rest-request";

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
const args = JSON.parse(process.argv[2]);
const ctx = args.rest.replace(/\/rest$/, "");

/** POST to the mock's control API; its JSON answer. */
async function control(path, body) {
  const r = await fetch(args.mock + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

/** What a thrown error says: class, the library's classes it is an instance of, code, message. */
function described(e) {
  return {
    name: e.name,
    isRequestError: e instanceof ArcGISRequestError,
    isAuthError: e instanceof ArcGISAuthError,
    code: e.code,
    message: e.message,
    url: e.url,
  };
}

/** The error request() throws (null if it does not throw). */
async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return described(e);
  }
}

/** A token for the configured user, from the tokenServicesUrl that rest/info announces. */
async function token(minutes) {
  const info = await request(`${args.rest}/info`);
  const t = await fetchToken(info.authInfo.tokenServicesUrl, {
    params: { username: args.username, password: args.password, expiration: minutes },
  });
  return { info, ...t };
}

const scenarios = {
  /**
   * request() of a job, as the library sends it by default (form POST) and as a GET; f=pjson
   * needs rawResponse (the library parses only f=json and geojson, and gives a Blob for pjson).
   */
  async job() {
    const url = `${args.rest}/jobs/${args.jobId}`;
    const raw = await request(url, { params: { f: "pjson" }, httpMethod: "GET", rawResponse: true });
    return {
      post: await request(url),
      get: await request(url, { httpMethod: "GET" }),
      pjson: await raw.text(),
    };
  },

  /** createMission, then poll the job until it is terminal, moving it on through the mock. */
  async createAndPoll() {
    const created = await request(`${args.rest}/services/createMission`, {
      params: { title: args.title, snippet: "From ArcGIS REST JS", tags: "mockjobs,rest-js", async: true },
    });
    const url = `${args.rest}/jobs/${created.jobId}`;
    const polls = [];
    for (let i = 0; i < 50; i++) {
      const doc = await request(url);
      polls.push({ status: doc.status, messages: doc.messages.length, steps: doc.customAttributes.stepsCompleted });
      if (TERMINAL.has(doc.status)) return { created, polls, last: doc };
      await control(`/__mock/jobs/${created.jobId}/advance`, { to: "next" });
    }
    throw new Error(`job ${created.jobId} never ended: ${JSON.stringify(polls)}`);
  },

  /** An unknown job id: the HTTP-200 error envelope becomes an ArcGISRequestError. */
  async unknownJob() {
    return {
      post: await failure(request(`${args.rest}/jobs/${args.jobId}`)),
      get: await failure(request(`${args.rest}/jobs/${args.jobId}`, { httpMethod: "GET" })),
    };
  },

  /** fetchToken from rest/info's tokenServicesUrl; the token opens the job every way the library sends it. */
  async fetchToken() {
    const t = await token(60);
    const url = `${args.rest}/jobs/${args.jobId}`;
    return {
      tokenServicesUrl: t.info.authInfo.tokenServicesUrl,
      token: t.token,
      expires: t.expires.getTime(),
      now: Date.now(),
      withoutToken: await failure(request(url)),
      asParam: await request(url, { params: { token: t.token } }),
      asAuthentication: await request(url, { authentication: t.token, suppressWarnings: true }),
      asHeader: await request(url, {
        authentication: t.token,
        suppressWarnings: true,
        httpMethod: "GET",
        hideToken: true,
      }),
      forged: await failure(request(url, { params: { token: t.token.slice(0, -2) + "xx" } })),
    };
  },

  /** A 5-minute token works, then the mock clock moves 6 minutes and the same token is 498. */
  async tokenExpiry() {
    const t = await token(5);
    const url = `${args.rest}/jobs/${args.jobId}`;
    const before = await request(url, { params: { token: t.token } });
    const clock = await control("/__mock/clock", { advance: "6m" });
    const after = await failure(request(url, { params: { token: t.token } }));
    return { before, clock, after };
  },

  /**
   * ArcGISIdentityManager with username and password for a stand-alone server: `server` is the
   * context URL (tokens come from its rest/info's tokenServicesUrl) and so is `portal` (a URL
   * under the portal uses the manager's own token; without it the library asks the portal at
   * www.arcgis.com whether the server is federated). After the mock clock moves past the
   * token's life the next request gets a 498: the manager refreshes its token and retries.
   */
  async identityManager() {
    const manager = new ArcGISIdentityManager({
      username: args.username,
      password: args.password,
      server: ctx,
      portal: ctx,
      tokenDuration: 5,
    });
    const url = `${args.rest}/jobs/${args.jobId}`;
    const first = await request(url, { authentication: manager });
    const firstToken = manager.token;
    const firstExpires = manager.tokenExpires.getTime();
    const again = await request(url, { authentication: manager });
    const clock = await control("/__mock/clock", { advance: "6m" });
    const afterExpiry = await request(url, { authentication: manager });
    return {
      first,
      again,
      afterExpiry,
      clock,
      firstToken,
      firstExpires,
      secondToken: manager.token,
      now: Date.now(),
    };
  },

  /**
   * With the mock clock set far in the past (a scenario replayed "in 2020"), a token's
   * `expires` must still be in the client's time, or the manager fetches a new token before
   * every request.
   */
  async identityManagerPastClock() {
    await control("/__mock/clock", { set: args.setClock });
    const manager = new ArcGISIdentityManager({
      username: args.username,
      password: args.password,
      server: ctx,
      portal: ctx,
      tokenDuration: 5,
    });
    const url = `${args.rest}/jobs/${args.jobId}`;
    const docs = [];
    for (let i = 0; i < 3; i++) docs.push(await request(url, { authentication: manager }));
    return { docs, expires: manager.tokenExpires.getTime(), now: Date.now() };
  },
};

const run = scenarios[args.scenario];
if (!run) {
  console.error(`unknown scenario ${args.scenario}; one of ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await run()) + "\n");
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  if (e && e.response) console.error(JSON.stringify(e.response));
  process.exit(1);
}
