// The hub's one clock type lives in libs/observability; re-exported for the connectors' modules.
export { flush, ManualClock, systemClock, type Clock } from '#lgsp/observability';
