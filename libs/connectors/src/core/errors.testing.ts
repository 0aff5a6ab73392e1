import { ConnectorError } from './errors.js';

/** Test support: the ConnectorError a call throws, failing the test when it throws none. */

/** Runs `fn` and returns the ConnectorError it throws. */
export const mappingFailure = (fn: () => unknown): ConnectorError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConnectorError) return e;
    throw e;
  }
  throw new Error('expected a mapping error');
};

/** Awaits `p` and returns the ConnectorError it rejects with. */
export const connectorFailure = async (p: Promise<unknown>): Promise<ConnectorError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectorError) return e;
    throw e;
  }
  throw new Error('expected a ConnectorError');
};
