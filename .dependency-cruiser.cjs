/**
 * The import rules of worker/, shared/ and gpu/sim/ (docs/architecture.md
 * explains them), checked by `npm run lint:deps` inside `npm test`.
 *
 * A file's layer follows from its path alone (first match wins), top to bottom:
 *   entry     worker/index.ts, worker/app.ts
 *   routes    worker/http/**
 *   services  *-service.ts
 *   objects   *-do.ts, *-storage.ts, *-db.ts (Durable Objects and storage)
 *   routing   worker/routing/** (the router and the backend client), except *-rpc.ts
 *   modules   everything else in worker/ (*-rpc.ts contracts, env.ts, core/, streams/,
 *             unsuffixed files of capability folders), and shared/
 * Imports go down the list, never up; type imports count.
 */

const ENTRY = "^worker/(index|app)\\.ts$";
const ROUTES = "^worker/http/";
const SERVICES = "^worker/(?!http/).*-service\\.ts$";
const OBJECTS = "^worker/(?!http/).*-(do|storage|db)\\.ts$";
const CONTRACTS = "^worker/.*-rpc\\.ts$";
const ROUTING = "^worker/routing/(?!.*-(service|do|storage|db|rpc)\\.ts$)";
/** The one file that may bring the simulator into the Worker: it answers test-mode keys when no simulator is configured. */
const EMBEDDED_SIMULATOR = "^worker/routing/embedded-simulator\\.ts$";

/** Everything above a layer, for "may not import" rules. */
const ABOVE = {
  routes: [ENTRY],
  services: [ENTRY, ROUTES],
  objects: [ENTRY, ROUTES, SERVICES],
  routing: [ENTRY, ROUTES, SERVICES, OBJECTS],
  modules: [ENTRY, ROUTES, SERVICES, OBJECTS, ROUTING],
};

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import circle, type imports included: each module can be read and changed knowing only what is below it.",
      from: {},
      to: { circular: true },
    },
    {
      name: "routes-import-downward",
      severity: "error",
      comment: "Routes (worker/http) parse, call a service and shape the response; nothing imports them but the app.",
      from: { path: ROUTES },
      to: { path: ABOVE.routes },
    },
    {
      name: "routes-call-services-not-objects",
      severity: "error",
      comment: "Routes reach Durable Objects only through a service: they never name an object's contract (*-rpc.ts).",
      from: { path: ROUTES },
      to: { path: CONTRACTS },
    },
    {
      name: "services-import-downward",
      severity: "error",
      comment: "A service (*-service.ts) may use objects, storage, routing and modules, never a route or the app.",
      from: { path: SERVICES },
      to: { path: ABOVE.services },
    },
    {
      name: "objects-import-downward",
      severity: "error",
      comment: "Durable Objects and storage (*-do.ts, *-storage.ts, *-db.ts) never import a service or a route.",
      from: { path: OBJECTS },
      to: { path: ABOVE.objects },
    },
    {
      name: "routing-imports-downward",
      severity: "error",
      comment: "The router and the backend client (worker/routing) use only modules and contracts below them.",
      from: { path: ROUTING },
      to: { path: ABOVE.routing },
    },
    {
      name: "modules-import-modules",
      severity: "error",
      comment:
        "Modules (pure maths, types, contracts: every other file of worker/, and shared/) import only other modules; " +
        "a capability folder of pure modules (worker/answers) is one of them.",
      from: { path: "^(worker|shared)/", pathNot: [ENTRY, ROUTES, SERVICES, OBJECTS, ROUTING] },
      to: { path: ABOVE.modules },
    },
    {
      name: "objects-named-by-contract",
      severity: "error",
      comment: "Only the entry imports a Durable Object class; everyone else names its contract (*-rpc.ts), as Env does.",
      from: { path: "^worker/", pathNot: ENTRY },
      to: { path: "-do\\.ts$" },
    },
    {
      name: "shared-stands-alone",
      severity: "error",
      comment: "shared/ is the wire format the Worker, the simulator and the tests agree on: it imports neither of them.",
      from: { path: "^shared/" },
      to: { path: "^(worker|gpu)/" },
    },
    {
      name: "dashboard-stands-alone",
      comment: "The dashboard is a page of static assets: it speaks to the Worker over HTTP and shares only shared/'s types and pure modules.",
      severity: "error",
      from: { path: "^dashboard/" },
      to: { path: "^(worker|gpu)/" },
    },
    {
      name: "dashboard-not-in-the-worker",
      comment: "Nothing of the Worker imports the dashboard: its code and uPlot must never enter the Worker's bundle or start-up.",
      severity: "error",
      from: { path: "^(worker|shared|gpu)/" },
      to: { path: "^dashboard/" },
    },
    {
      name: "cas-outside-the-worker",
      severity: "error",
      comment:
        "The CAS (@cortex-js/compute-engine, ~1.2 MiB gzipped) runs in the checker Worker (checker/), behind the CHECKER service binding: " +
        "nothing reachable from the main Worker's entry, dynamic import() included, may bring it into the bundle and the start-up of every generation. " +
        "Pass the CAS as a capability (answers/cas.ts), never import it.",
      from: { path: "^worker/index\\.ts$" },
      to: { path: ["^worker/answers/symbolic\\.ts$", "(^|/)node_modules/@cortex-js/compute-engine/"], reachable: true },
    },
    {
      name: "checker-uses-the-answers",
      severity: "error",
      comment: "The checker Worker is the answer pipeline with the CAS: it imports worker/answers/ and shared/ (modules), nothing that touches the main Worker's bindings.",
      from: { path: "^checker/" },
      to: { path: "^(worker|shared)/", pathNot: ["^worker/answers/", "^worker/core/log\\.ts$", "^shared/"] },
    },
    {
      name: "nothing-imports-the-checker",
      severity: "error",
      comment: "The checker Worker is reached over its service binding, never imported (that would bring the CAS back into the main Worker).",
      from: { path: "^(worker|shared|gpu|dashboard)/" },
      to: { path: "^checker/" },
    },
    {
      name: "simulator-stands-alone",
      severity: "error",
      comment: "gpu/sim is a vLLM-compatible server of its own: it never imports the Worker.",
      from: { path: "^gpu/" },
      to: { path: "^worker/" },
    },
    {
      name: "simulator-embedded-once",
      severity: "error",
      comment: "Production code reaches the simulator only through the embedded simulator (test-mode keys without a simulator backend).",
      from: { path: "^worker/", pathNot: EMBEDDED_SIMULATOR },
      to: { path: "^gpu/" },
    },
  ],
  options: {
    // Type-only imports are edges too: an import circle closed by types still ties its modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // The CAS package is in the graph only as a leaf, so cas-outside-the-worker can see an import of it.
    includeOnly: ["^(worker|shared|gpu/sim|dashboard/src|checker)/", "^node_modules/@cortex-js/compute-engine/"],
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^gpu/sim/node-server\\.ts$" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
