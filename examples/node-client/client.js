#!/usr/bin/env node
// A Liaison client in Node.js, on nothing but the shipped protos, @grpc/grpc-js and
// @grpc/proto-loader (protobufjs, which proto-loader is built on, reads the error details).
//
// It submits a person, gets it back, searches for it by family name, follows Subscribe until a
// second record arrives, and submits an invalid record to show the field violation the gateway
// returns in grpc-status-details-bin (a google.rpc.Status holding a google.rpc.BadRequest).
//
//   node client.js --target 127.0.0.1:50051                       # a loopback gateway, no TLS
//   node client.js --target gw:50051 --ca ca.pem --cert me.pem --key me.key   # mutual TLS
//
// Every line it prints is one step; a failure prints "error: ..." and exits 1.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

// The contract and the google.rpc protos shipped beside it (protos/third_party).
const PROTOS = path.resolve(__dirname, '..', '..', 'protos');
const INCLUDE_DIRS = [PROTOS, path.join(PROTOS, 'third_party')];

function parseArguments(argv) {
  const options = { target: '127.0.0.1:50051', prefix: 'NODE' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!['target', 'prefix', 'ca', 'cert', 'key', 'server-name'].includes(name) || i + 1 >= argv.length) {
      throw new Error(`usage: client.js [--target HOST:PORT] [--prefix ID] [--ca PEM --cert PEM --key PEM [--server-name NAME]] (at ${argv[i]})`);
    }
    options[name] = argv[i + 1];
  }
  return options;
}

function credentialsFor(options) {
  if (!options.ca) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    fs.readFileSync(options.ca),
    options.key ? fs.readFileSync(options.key) : null,
    options.cert ? fs.readFileSync(options.cert) : null,
  );
}

function loadContract() {
  const definition = protoLoader.loadSync(['liaison/v1/exchange.proto'], {
    includeDirs: INCLUDE_DIRS,
    longs: String, // uint64 sequences as decimal strings
    enums: String,
    defaults: true,
    oneofs: true, // a oneof's member name in the oneof's own field (event, item, body)
  });
  return grpc.loadPackageDefinition(definition).liaison.v1;
}

// The google.rpc types that carry rich errors, read with protobufjs from the shipped files.
function loadErrorTypes() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const dir of INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return target; // google/protobuf/*: protobufjs has them built in
  };
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
  return { Status: root.lookupType('google.rpc.Status'), root };
}

// "code NAME: message" and one indented "field: description" line per field violation.
function describeError(error, errorTypes) {
  const codeName = Object.keys(grpc.status).find((name) => grpc.status[name] === error.code);
  const lines = [`refused ${codeName}: ${error.details}`];
  const [details] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (!details) return lines;
  const status = errorTypes.Status.decode(details);
  for (const detail of status.details) {
    // protobufjs's built-in Any keeps the proto name (type_url); parsed files are camelCased.
    const typeName = (detail.type_url || detail.typeUrl).split('/').pop();
    const type = errorTypes.root.lookupType(typeName);
    const message = type.decode(detail.value);
    if (typeName === 'google.rpc.BadRequest') {
      for (const violation of message.fieldViolations) {
        lines.push(`  ${violation.field}: ${violation.description}`);
      }
    } else {
      lines.push(`  ${typeName}: ${JSON.stringify(type.toObject(message))}`);
    }
  }
  return lines;
}

function person(recordId, family, given, birthDate) {
  return {
    recordId,
    person: {
      names: [{ type: 'NAME_TYPE_PRIMARY', family, given }],
      birthDate,
      sex: 'SEX_FEMALE',
      nationalities: [{ code: 'GBR', system: 'COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3' }],
    },
  };
}

const unary = (client, method, request) =>
  new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 30_000 }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });

function search(client, request) {
  return new Promise((resolve, reject) => {
    const hits = [];
    const call = client.Search(request, { deadline: Date.now() + 30_000 });
    call.on('data', (response) => {
      if (response.item === 'hit') hits.push(response.hit.record.recordId);
    });
    call.on('error', reject);
    call.on('end', () => resolve(hits));
  });
}

// Subscribe after `afterSequence`; once caught up, call `whenCaughtUp`; resolve with the first
// record event of `recordId`, then cancel the stream.
function follow(client, afterSequence, recordId, whenCaughtUp) {
  return new Promise((resolve, reject) => {
    const call = client.Subscribe({ afterSequence, maxEventsPerResponse: 16 });
    let found = null;
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`Subscribe did not bring ${recordId} within 30 s`));
    }, 30_000);
    call.on('data', (response) => {
      if (response.event === 'caughtUp') {
        whenCaughtUp().catch((error) => {
          clearTimeout(timer);
          call.cancel();
          reject(error);
        });
        return;
      }
      const events =
        response.event === 'recordEvents' ? response.recordEvents.events : [response.recordEvent];
      found = found || events.find((event) => event.record.recordId === recordId) || null;
      if (found) {
        clearTimeout(timer);
        call.cancel();
        resolve(found);
      }
    });
    call.on('error', (error) => {
      if (found && error.code === grpc.status.CANCELLED) return; // our own cancel
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const liaison = loadContract();
  const errorTypes = loadErrorTypes();
  const clientOptions = options['server-name']
    ? { 'grpc.ssl_target_name_override': options['server-name'] }
    : {};
  const client = new liaison.RecordExchange(options.target, credentialsFor(options), clientOptions);
  const first = `${options.prefix}-1`;
  const second = `${options.prefix}-2`;

  const { ack } = await unary(client, 'Submit', {
    record: person(first, 'LOVELACE', 'ADA', { year: 1815, month: 12, day: 10 }),
  });
  console.log(`submitted ${ack.recordId} version ${ack.version} (sequence ${ack.sequence})`);

  const { record } = await unary(client, 'Get', { recordId: first });
  const [name] = record.person.names;
  const born = record.person.birthDate;
  const date = [born.year, born.month, born.day].map((n) => String(n).padStart(2, '0')).join('-');
  console.log(`got ${record.recordId} version ${record.version}: ${name.family}, ${name.given} born ${date}`);

  const hits = await search(client, { familyName: 'Lovelace', pageSize: 10 });
  console.log(`searched LOVELACE: ${hits.join(', ')}`);

  const event = await follow(client, ack.sequence, second, () =>
    unary(client, 'Submit', {
      record: person(second, 'SOMERVILLE', 'MARY', { year: 1780, month: 12, day: 26 }),
    }),
  );
  console.log(
    `followed ${event.record.recordId} version ${event.record.version} (sequence ${event.metadata.sequence})`,
  );

  try {
    await unary(client, 'Submit', {
      record: person(`${options.prefix}-3`, 'BYRON', 'ADA', { year: 1815, month: 13, day: 10 }),
    });
    throw new Error('the invalid record was accepted');
  } catch (error) {
    if (error.code === undefined) throw error;
    for (const line of describeError(error, errorTypes)) console.log(line);
  }
  client.close();
}

main().catch((error) => {
  console.log(`error: ${error.details || error.message}`);
  process.exit(1);
});
