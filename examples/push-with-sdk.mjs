// Push one event to the hub with the official CloudEvents SDK (npm install cloudevents).
// Run: LGSP_URL=http://127.0.0.1:3000 LGSP_TOKEN=<commune token> node examples/push-with-sdk.mjs
import { randomUUID } from 'node:crypto';
import { CloudEvent, HTTP } from 'cloudevents';

const event = new CloudEvent({
  id: randomUUID(),
  source: '/communes/21040/one-stop-shop',
  type: 'vn.gov.lgsp.dossier.status-changed.v1',
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: {
    dossierCode: process.env.DOSSIER_CODE ?? '000.00.51.H56-251123-0001',
    provinceCode: '51',
    communeCode: '21040',
    status: 2,
    changedAt: new Date().toISOString(),
  },
});

const { headers, body } = HTTP.binary(event); // or HTTP.structured(event)
const response = await fetch(`${process.env.LGSP_URL}/v1/events`, {
  method: 'POST',
  headers: { ...headers, authorization: `Bearer ${process.env.LGSP_TOKEN}` },
  body,
});
console.log(response.status, JSON.stringify(await response.json()));
