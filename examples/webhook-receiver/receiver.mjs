// A receiver of lgsp-hub webhooks (npm install standardwebhooks): verifies each delivery's
// signature, drops repeats by webhook-id and checks that each dossier's events arrive in order.
// Run: LGSP_WEBHOOK_SECRET=whsec_… PORT=8088 node examples/webhook-receiver/receiver.mjs
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const secret = process.env.LGSP_WEBHOOK_SECRET;
if (!secret) {
  console.error('LGSP_WEBHOOK_SECRET is required (the whsec_… that lgsp webhooks create printed)');
  process.exit(78);
}
// After `lgsp webhooks rotate-secret`, restart with the new secret: while the previous one still
// signs, the hub sends both signatures, and one matching is enough.
const webhook = new Webhook(secret);
const port = Number(process.env.PORT ?? 8088);

// In memory for the example; a real receiver keeps both in its database, in the transaction that
// applies the event, so a restart neither applies an event twice nor forgets where a dossier was.
const handled = new Set(); // webhook-id of every event applied
const versions = new Map(); // lgspstream → the last lgspstreamversion applied

function receive(headers, body) {
  let event;
  try {
    event = webhook.verify(body, headers); // throws on a bad or stale signature
  } catch (e) {
    console.log(`refused: ${e.message}`);
    return 401;
  }
  const id = headers['webhook-id'];
  const { lgspposition: position, lgspstream: stream, lgspstreamversion: version, type } = event;
  if (handled.has(id)) {
    console.log(`repeat   ${position} ${stream} v${version} ${id}`);
    return 204; // already applied: acknowledge, or the hub sends it again
  }
  // A filter on types skips versions, so a gap is normal; going back is not.
  const last = versions.get(stream) ?? 0;
  const order = version > last ? 'ok      ' : `ORDER! (had v${last})`;
  handled.add(id);
  versions.set(stream, Math.max(last, version));
  const replay = event.lgspreplay ? ` replay ${event.lgspreplay}` : '';
  console.log(`${order} ${position} ${stream} v${version} ${type} ${id}${replay}`);
  return 204;
}

createServer((req, res) => {
  if (req.method !== 'POST') return void res.writeHead(405).end();
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    // The signature covers the exact bytes: verify the raw body, not a re-serialised object.
    res.writeHead(receive(req.headers, Buffer.concat(chunks).toString('utf8'))).end();
  });
}).listen(port, () => console.log(`listening on http://127.0.0.1:${port}`));
