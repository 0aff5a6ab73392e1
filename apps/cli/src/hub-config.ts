import type { HubConfig } from '#lgsp/hub-config';

/** The hub's configuration is invalid: exit 78 with its problems. */
export class CliConfigError extends Error {}

/** Flags that override the hub's configuration for a command that opens the store itself. */
export interface StoreOverrides {
  /** `--store`: `sqlite` or a `postgres://` URL (LGSP_STORE). */
  store?: string | undefined;
  /** `--schema` (LGSP_POSTGRES_SCHEMA). */
  schema?: string | undefined;
  /** `--data-dir` (LGSP_DATA_DIR). */
  dataDir?: string | undefined;
}

/**
 * The hub's configuration, for the commands that open its store without the hub (migrate, verify):
 * LGSP_CONFIG and the environment, with the command's flags over them. The hub's config module is
 * loaded only for these commands.
 * @throws CliConfigError when the configuration is invalid.
 */
export async function loadHubConfig(
  env: Readonly<Record<string, string | undefined>>,
  overrides: StoreOverrides,
): Promise<HubConfig> {
  const { ConfigError, loadConfig } = await import('#lgsp/hub-config');
  try {
    return loadConfig({
      ...env,
      ...(overrides.store === undefined ? {} : { LGSP_STORE: overrides.store }),
      ...(overrides.schema === undefined ? {} : { LGSP_POSTGRES_SCHEMA: overrides.schema }),
      ...(overrides.dataDir === undefined ? {} : { LGSP_DATA_DIR: overrides.dataDir }),
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliConfigError(e.message);
    throw e;
  }
}
