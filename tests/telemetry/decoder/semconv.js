#!/usr/bin/env node
// Which attribute keys the OFFICIAL OpenTelemetry semantic conventions define: reads the
// ATTR_* constants of @opentelemetry/semantic-conventions (stable and incubating) and prints,
// as JSON, the subset of the keys given on the command line that the conventions define.
//
// Usage: node semconv.js <key>...   →   {"version": "1.45.0", "official": ["k8s.namespace.name"]}
'use strict';

const semconv = require('@opentelemetry/semantic-conventions/incubating');
const fs = require('fs');
const path = require('path');

// The package's exports hide package.json; read it beside the entry point (dist/..).
const entry = require.resolve('@opentelemetry/semantic-conventions/incubating');
const { version } =
    JSON.parse(fs.readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8'));

const defined = new Set(
    Object.entries(semconv)
        .filter(([name, value]) => name.startsWith('ATTR_') && typeof value === 'string')
        .map(([, value]) => value));
const official = process.argv.slice(2).filter((key) => defined.has(key));
process.stdout.write(JSON.stringify({ version, official }) + '\n');
