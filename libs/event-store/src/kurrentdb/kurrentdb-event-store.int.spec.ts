import { StoreUnavailableError } from '../errors.js';
import { KurrentDbEventStore } from './kurrentdb-event-store.js';

describe('KurrentDbEventStore without a server', () => {
  it('fails to open with StoreUnavailableError (retriable) when nothing listens', async () => {
    const opening = KurrentDbEventStore.open({
      connectionString: 'kurrentdb://127.0.0.1:1?tls=false&defaultDeadline=5000',
    });
    await expect(opening).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(opening).rejects.toMatchObject({ retriable: true });
  });

  it('fails to open with StoreUnavailableError on a malformed connection string', async () => {
    await expect(KurrentDbEventStore.open({ connectionString: 'http://nowhere' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});
