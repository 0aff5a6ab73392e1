// Child process of the kill -9 test: appends single events from many concurrent callers, forever,
// and prints `<position> <id>` for each append once it is acknowledged. Usage: node this.mjs <file>
import '../../../../../test/support/ts-hooks.mjs';

const { ANY_VERSION } = await import('#lgsp/event-store');
const { SqliteEventStore } = await import('#lgsp/event-store/sqlite');

const store = SqliteEventStore.open({ file: process.argv[2] });
let next = 0;

async function caller() {
  for (;;) {
    const n = next++;
    const [result] = await store.append([
      {
        stream: `dossier-000.00.15.H51-250701-${String(n % 50).padStart(4, '0')}`,
        expectedVersion: ANY_VERSION,
        id: `kill-${n}`,
        source: '/communes/21040',
        type: 'vn.gov.lgsp.dossier.status-changed.v1',
        data: { dossierCode: `000.00.15.H51-250701-${n % 50}`, status: 4, note: 'Đang xử lý hồ sơ' },
        extensions: {},
        provinceCode: '51',
        communeCode: '21040',
      },
    ]);
    process.stdout.write(`${result.position} ${result.id}\n`);
  }
}

process.stdout.write('ready\n');
for (let i = 0; i < 32; i++) void caller();
