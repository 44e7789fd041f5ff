// validate_events.mjs SCHEMA EVENTS.jsonl [--expect KIND,KIND...]
// Validates every line of EVENTS.jsonl (the output of `station ... --json`) against the
// JSON Schema SCHEMA with Ajv (pinned in package-lock.json here). Fails on the first line
// that is not JSON and reports every invalid event; --expect names event kinds that must
// each appear at least once (so a run that emitted nothing cannot pass).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(process.env.AJV_PREFIX || dirname(fileURLToPath(import.meta.url)), 'noop.js'));
const Ajv = require('ajv');

const [schemaPath, eventsPath, ...rest] = process.argv.slice(2);
if (!schemaPath || !eventsPath) {
    console.error('usage: validate_events.mjs SCHEMA EVENTS.jsonl [--expect KIND,...]');
    process.exit(2);
}
let expect = [];
for (let i = 0; i < rest.length; i++)
    if (rest[i] === '--expect') expect = rest[++i].split(',');

// strictRequired off: the if/then branches require keys the enclosing schema defines.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
const lines = readFileSync(eventsPath, 'utf8').split('\n').filter((l) => l.length > 0);
const seen = new Map();
let bad = 0;
lines.forEach((line, i) => {
    let ev;
    try {
        ev = JSON.parse(line);
    } catch (e) {
        console.error(`line ${i + 1}: not JSON (${e.message}): ${line.slice(0, 200)}`);
        process.exit(1);
    }
    seen.set(ev.event, (seen.get(ev.event) || 0) + 1);
    if (!validate(ev)) {
        bad++;
        if (bad <= 20)
            console.error(`line ${i + 1} (${ev.event}): ${ajv.errorsText(validate.errors)}\n  ${line.slice(0, 300)}`);
    }
});
const missing = expect.filter((k) => !seen.has(k));
console.log(`${lines.length} events, ${bad} invalid; kinds: ${[...seen].map(([k, n]) => `${k}=${n}`).join(' ')}`);
if (missing.length) console.error(`expected event kinds never seen: ${missing.join(', ')}`);
process.exit(bad || missing.length || lines.length === 0 ? 1 : 0);
