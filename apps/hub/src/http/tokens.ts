/** Injection token of the HubRuntime. */
export const RUNTIME = Symbol('HubRuntime');
