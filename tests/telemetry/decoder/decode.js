#!/usr/bin/env node
// Independent OTLP decoder for the telemetry tests. It decodes an OTLP/HTTP request body with
// the OFFICIAL schema (@opentelemetry/otlp-transformer's generated root.js, via protobufjs) —
// never with kafka-autoscaler's own .proto — and prints the request as JSON:
//   {"request": {...}, "unknownFieldBytes": N, "jsonMismatches": [...]}
// Ids (traceId, spanId, parentSpanId) are printed as lowercase hex; 64-bit integers as strings;
// enums as numbers.
//
// Usage: node decode.js <traces|metrics|logs> <application/x-protobuf|application/json> <file>
//
// protobuf: unknownFieldBytes > 0 means the body held fields the schema does not know (the
// schema re-encodes what it read into fewer bytes than it was given).
// json: the body is read with the schema's fromObject (after turning hex ids into bytes) and
// written back with toObject; every difference from the body (unknown keys, a 64-bit integer
// sent as a number, a misspelled key...) is listed in jsonMismatches.
'use strict';

const fs = require('fs');
const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
const ID_LENGTH = { traceId: 16, spanId: 8, parentSpanId: 8 };

function requestType(signal) {
  const c = root.opentelemetry.proto.collector;
  switch (signal) {
    case 'traces': return c.trace.v1.ExportTraceServiceRequest;
    case 'metrics': return c.metrics.v1.ExportMetricsServiceRequest;
    case 'logs': return c.logs.v1.ExportLogsServiceRequest;
    default: throw new Error(`unknown signal ${signal}`);
  }
}

// Walks a plain object, replacing the value of every id key by f(key, value).
function mapIds(value, f) {
  if (Array.isArray(value)) return value.map((v) => mapIds(v, f));
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = ID_KEYS.has(k) && typeof v === 'string' ? f(k, v) : mapIds(v, f);
    }
    return out;
  }
  return value;
}

const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: false };

function diff(expected, actual, path, out) {
  if (typeof expected !== typeof actual || Array.isArray(expected) !== Array.isArray(actual)) {
    out.push(`${path}: sent ${JSON.stringify(expected)}, schema read ${JSON.stringify(actual)}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (expected.length !== actual.length) {
      out.push(`${path}: sent ${expected.length} items, schema read ${actual.length}`);
      return;
    }
    expected.forEach((e, i) => diff(e, actual[i], `${path}[${i}]`, out));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const k of keys) {
      if (!(k in actual)) out.push(`${path}.${k}: not in the official schema (or wrong type)`);
      else if (!(k in expected)) out.push(`${path}.${k}: added by the schema`);
      else diff(expected[k], actual[k], `${path}.${k}`, out);
    }
    return;
  }
  if (expected !== actual) {
    out.push(`${path}: sent ${JSON.stringify(expected)}, schema read ${JSON.stringify(actual)}`);
  }
}

function main() {
  const [signal, contentType, file] = process.argv.slice(2);
  if (!signal || !contentType || !file) {
    process.stderr.write('usage: decode.js <traces|metrics|logs> <content-type> <file>\n');
    process.exit(2);
  }
  const Type = requestType(signal);
  let body = fs.readFileSync(file);
  if (body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b) body = zlib.gunzipSync(body);
  const toHex = (k, b64) => Buffer.from(b64, 'base64').toString('hex');
  const result = { unknownFieldBytes: 0, jsonMismatches: [] };

  if (contentType.startsWith('application/x-protobuf')) {
    const message = Type.decode(body);
    const err = Type.verify(message);
    if (err) throw new Error(`verify: ${err}`);
    result.unknownFieldBytes = body.length - Type.encode(message).finish().length;
    result.request = mapIds(Type.toObject(message, TO_OBJECT), toHex);
  } else if (contentType.startsWith('application/json')) {
    const sent = JSON.parse(body.toString('utf8'));
    const badIds = [];
    const asBytes = mapIds(sent, (k, hex) => {
      if (!/^[0-9a-f]*$/.test(hex) || hex.length !== 2 * ID_LENGTH[k]) {
        badIds.push(`${k}=${JSON.stringify(hex)}: not ${2 * ID_LENGTH[k]} lowercase hex digits`);
      }
      return Buffer.from(hex, 'hex').toString('base64');
    });
    const message = Type.fromObject(asBytes);
    const err = Type.verify(message);
    if (err) throw new Error(`verify: ${err}`);
    const back = mapIds(Type.toObject(message, TO_OBJECT), toHex);
    diff(sent, back, '$', result.jsonMismatches);
    result.jsonMismatches.push(...badIds);
    result.request = back;
  } else {
    throw new Error(`unsupported content type ${contentType}`);
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(`decode.js: ${e.stack || e}\n`);
  process.exit(1);
}
